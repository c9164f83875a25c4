"""Writing the outbox: what a citizen is told, by the channel they chose, in their language.

Called in the transaction of the change itself (`request_event_notify` by the request
services' public events, `alert_publish` for alerts); `crm/outbox.py` sends what is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm.models import (
    FINISHED_STATUSES,
    Alert,
    Citizen,
    ConsentPurpose,
    EventKind,
    Notification,
    NotificationChannel,
    NotificationKind,
    RequestEvent,
    RequestSubscription,
)
from crm.models import RequestStatus as S
from crm.outbox import delivery_enqueue
from crm.public import status_words, tracking_url
from crm.selectors import working_calendar
from crm.selectors.portal import portal_preferences_of
from crm.sms import SMS_MAX_LENGTH
from tenants.db import connection
from tenants.models import Municipality
from tenants.services import NamedTown, town_url

__all__ = [
    "MessageContent",
    "branded_html",
    "notification_write",
    "notifications_paused",
    "request_event_notify",
    "town_of_schema",
]

_paused: ContextVar[bool] = ContextVar("relais_notifications_paused", default=False)


@contextlib.contextmanager
def notifications_paused() -> Iterator[None]:
    """Write no message for the changes made inside (the demo's history, which nobody is to
    be told about)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


@dataclass
class MessageContent:
    """A message before its channel: a subject, paragraphs, and an action (a link)."""

    subject: str
    paragraphs: list[str]
    action_label: str = ""
    action_url: str = ""
    reason: str = ""
    extra_links: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        lines = [*self.paragraphs]
        if self.action_url:
            lines.append(f"{self.action_label} : {self.action_url}")
        lines += [f"{label} : {url}" for label, url in self.extra_links]
        if self.reason:
            lines += ["--", self.reason]
        return "\n\n".join(lines) + "\n"

    def sms(self, town: Municipality) -> str:
        text = f"{town.public_name} : {' '.join(self.paragraphs[-2:])}"
        if self.action_url:
            text = f"{text[: SMS_MAX_LENGTH - len(self.action_url) - 2]} {self.action_url}"
        return text[:SMS_MAX_LENGTH]


def town_of_schema() -> Municipality:
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Municipality):
        return tenant
    return Municipality.objects.get(schema_name=connection.schema_name)


def branded_html(*, town: NamedTown, content: MessageContent, language: str) -> str:
    """The HTML version of a message: the town's name and colour, the same words as the text
    (citizens' text is escaped by the template)."""
    return render_to_string(
        "notifications/email.html",
        {
            "town": town,
            "colour": town.primary_colour or "#1d4f91",
            "content": content,
            "language": language,
        },
    )


def notification_write(
    *,
    citizen: Citizen,
    purpose: str,
    kind: str,
    content_for: Callable[[str], MessageContent],
    event: RequestEvent | None = None,
    alert: Alert | None = None,
    town: Municipality | None = None,
) -> Notification | None:
    """Write the message `content_for(language)` (a callable returning MessageContent) for
    `citizen`, by the channel they chose for `purpose`; nothing when they chose none, have no
    address for it, or were anonymised. Queues its sending. One message per event (or alert),
    channel and address: a second call writes nothing."""
    if _paused.get() or citizen.is_anonymised:
        return None
    preference = portal_preferences_of(citizen=citizen).get(purpose, "none")
    # The record's own switches (set by the desk or the API) speak for the follow-up of
    # requests; the citizen's choice updates them (citizen_preferences_set).
    follow_up = purpose == ConsentPurpose.REQUEST_FOLLOW_UP
    if preference == "email" and citizen.email and (citizen.notify_by_email or not follow_up):
        channel, recipient = NotificationChannel.EMAIL, citizen.email
    elif preference == "sms" and citizen.phone and (citizen.notify_by_sms or not follow_up):
        channel, recipient = NotificationChannel.SMS, citizen.phone
    else:
        return None
    town = town or town_of_schema()
    language = citizen.preferred_language or settings.LANGUAGE_CODE
    with override(language):
        content = content_for(language)
        html = branded_html(town=town, content=content, language=language)
        body = content.sms(town) if channel == NotificationChannel.SMS else content.text()
    try:
        with transaction.atomic():
            message = Notification.objects.create(
                kind=kind,
                channel=channel,
                citizen=citizen,
                request=event.request if event is not None else None,
                event=event,
                alert=alert,
                recipient=recipient,
                language=language,
                subject=content.subject[:200],
                body_text=body,
                body_html=html if channel == NotificationChannel.EMAIL else "",
            )
    except IntegrityError:
        return None  # already written for this event or alert
    delivery_enqueue(notification_id=message.pk)
    return message


def _kind_of(event: RequestEvent) -> str | None:
    if event.kind == EventKind.CREATED:
        return NotificationKind.RECEIVED
    if event.kind == EventKind.PUBLIC_REPLY:
        return NotificationKind.REPLY
    if event.kind in (EventKind.STATUS_CHANGED, EventKind.MERGED):
        if event.to_status in (S.RESOLVED, S.CLOSED):
            return NotificationKind.CLOSED
        return NotificationKind.STATUS
    return None


def request_event_notify(*, event: RequestEvent) -> list[Notification]:
    """Tell the request's citizen (and, of its progress, those who follow it) about a public
    event: its reception, a public reply, a change of status, its closure."""
    kind = _kind_of(event)
    if kind is None or _paused.get():
        return []
    service_request = event.request
    author = service_request.citizen
    follows: list[RequestSubscription] = []
    if kind in (NotificationKind.STATUS, NotificationKind.CLOSED):
        subscriptions = RequestSubscription.objects.filter(request=service_request)
        if author is not None:
            subscriptions = subscriptions.exclude(citizen=author)
        follows = list(subscriptions.select_related("citizen"))
    if author is None and not follows:
        return []  # a request filed by an integration without a contact: nobody to tell
    town = town_of_schema()
    written = []
    if author is not None:
        message = notification_write(
            citizen=author,
            purpose=ConsentPurpose.REQUEST_FOLLOW_UP,
            kind=kind,
            event=event,
            town=town,
            content_for=lambda language: _for_author(event, kind, town, author),
        )
        if message is not None:
            written.append(message)
    for follow in follows:
        message = notification_write(
            citizen=follow.citizen,
            purpose=ConsentPurpose.REQUEST_FOLLOW_UP,
            kind=kind,
            event=event,
            town=town,
            content_for=partial(_for_follower, event, kind, town, follow=follow),
        )
        if message is not None:
            written.append(message)
    return written


def _greeting(citizen: Citizen) -> str:
    if citizen.first_name:
        return _("Bonjour {name},").format(name=citizen.first_name)
    return _("Bonjour,")


def _for_author(
    event: RequestEvent, kind: str, town: Municipality, citizen: Citizen
) -> MessageContent:
    service_request = event.request
    number = service_request.number
    type_name = str(service_request.service_type)
    paragraphs = [_greeting(citizen)]
    if kind == NotificationKind.RECEIVED:
        subject = _("Votre demande n° {number} est reçue").format(number=number)
        paragraphs.append(
            _("{town} a bien reçu votre demande « {type} », n° {number}.").format(
                town=town.public_name, type=type_name, number=number
            )
        )
        if service_request.sla_due_at is not None:
            due = service_request.sla_due_at.astimezone(working_calendar().tz)
            paragraphs.append(
                _("Nous prévoyons de la traiter d'ici le {date}.").format(
                    date=formats.date_format(due, "j F Y")
                )
            )
    elif kind == NotificationKind.REPLY:
        subject = _("Réponse à votre demande n° {number}").format(number=number)
        paragraphs += [
            _("{town} a répondu à votre demande « {type} » :").format(
                town=town.public_name, type=type_name
            ),
            event.message,
        ]
    else:
        subject = _("Votre demande n° {number} : {status}").format(
            number=number, status=service_request.get_status_display().lower()
        )
        paragraphs.append(_("Votre demande « {type} » a changé d'état.").format(type=type_name))
        paragraphs.append(status_words(service_request))
        if event.message and event.to_status in (S.CANCELLED, S.RESOLVED, S.CLOSED):
            paragraphs.append(event.message)
    url = town_url(town, tracking_url(service_request))
    content = MessageContent(
        subject=subject,
        paragraphs=paragraphs,
        action_label=_("Suivre ma demande"),
        action_url=url,
        reason=_(
            "Vous recevez ce message parce que vous avez fait cette demande à {town}. Gardez ce "
            "lien : il donne accès au suivi de votre demande."
        ).format(town=town.public_name),
    )
    if kind == NotificationKind.CLOSED and service_request.status in FINISHED_STATUSES:
        surveys = portal_preferences_of(citizen=citizen).get(ConsentPurpose.SURVEYS, "none")
        if surveys != "none":
            content.extra_links.append((_("Donnez-nous votre avis"), f"{url}#avis"))
    if citizen.account_id is not None:
        content.extra_links.append(
            (_("Choisir mes avis"), town_url(town, reverse("portal:account_preferences")))
        )
    return content


def _for_follower(
    event: RequestEvent,
    kind: str,
    town: Municipality,
    language: str,
    *,
    follow: RequestSubscription,
) -> MessageContent:
    """A follower's message: the new status, never the replies nor the tracking link (the
    request is someone else's); the account's list of followed requests for those who have one."""
    service_request = event.request
    content = MessageContent(
        subject=_("Une demande que vous suivez, n° {number} : {status}").format(
            number=service_request.number, status=service_request.get_status_display().lower()
        ),
        paragraphs=[
            _("Bonjour,"),
            _("La demande « {type} » n° {number}, que vous suivez, a changé d'état.").format(
                type=service_request.service_type, number=service_request.number
            ),
            status_words(service_request),
        ],
        reason=_(
            "Vous recevez ce message parce que vous avez choisi de suivre cette demande sur le "
            "portail de {town}."
        ).format(town=town.public_name),
    )
    if follow.citizen.account_id is not None:
        content.action_label = _("Mes demandes")
        content.action_url = town_url(town, f"{reverse('portal:account')}#suivies")
    content.extra_links.append(
        (
            _("Ne plus suivre cette demande"),
            town_url(town, reverse("portal:unfollow", kwargs={"token": follow.token})),
        )
    )
    return content
