"""Alerts and subscriptions: the town tells the people who follow a topic in a sector, and a
citizen follows an existing request instead of reporting it twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    OPEN_STATUSES,
    Alert,
    AlertSubscription,
    AlertTopic,
    Citizen,
    ConsentPurpose,
    NotificationKind,
    RequestSubscription,
    Sector,
    ServiceRequest,
)
from crm.roles import ADMINISTRATOR, CITIZEN, SUPERVISOR, Viewer
from crm.services.citizens import IntakeContact, citizen_for_contact
from crm.services.notifications import MessageContent, notification_write, town_of_schema
from crm.services.portal import citizen_preferences_set
from tenants.accounts.models import User
from tenants.models import Municipality
from tenants.services import town_url

__all__ = [
    "ALERT_PUBLISHER_ROLES",
    "alert_choices_set",
    "alert_publish",
    "alert_subscriptions_set",
    "portal_request_follow",
    "request_subscribe",
    "request_unsubscribe",
]

# Who may publish an alert: it reaches every subscriber of the town.
ALERT_PUBLISHER_ROLES = frozenset({ADMINISTRATOR, SUPERVISOR})
TITLE_MAX, BODY_MAX = 160, 2000


def alert_publish(
    *,
    actor: User,
    viewer: Viewer,
    topic: AlertTopic,
    sectors: Iterable[Sector],
    title_fr: str,
    body_fr: str,
    title_en: str = "",
    body_en: str = "",
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> Alert:
    """Publish an alert (no sector: the whole town) and write, in the same transaction, one
    message to each citizen subscribed to its topic in one of its sectors (or anywhere), by
    the channel they chose for alerts, in their language. Raises PermissionDenied for a role
    that may not publish, CrmError `invalid_alert` for a missing or too long text, an inactive
    topic or an end before now."""
    now = now or timezone.now()
    if viewer.role not in ALERT_PUBLISHER_ROLES:
        raise PermissionDenied(
            _("Seuls les administrateurs et les superviseurs publient des alertes.")
        )
    texts = {
        "title_fr": (title_fr or "").strip(),
        "title_en": (title_en or "").strip(),
        "body_fr": (body_fr or "").strip(),
        "body_en": (body_en or "").strip(),
    }
    for name in ("title_fr", "body_fr"):
        if not texts[name]:
            raise CrmError(
                CrmErrorCode.INVALID_ALERT, _("Ce champ est obligatoire en français."), field=name
            )
    for name, limit in (("title", TITLE_MAX), ("body", BODY_MAX)):
        for language in ("fr", "en"):
            if len(texts[f"{name}_{language}"]) > limit:
                raise CrmError(
                    CrmErrorCode.INVALID_ALERT,
                    _("Ce texte dépasse {limit} caractères.").format(limit=limit),
                    field=f"{name}_{language}",
                )
    if not topic.is_active:
        raise CrmError(CrmErrorCode.INVALID_ALERT, _("Ce sujet n'est plus offert."), field="topic")
    if ends_at is not None and ends_at <= now:
        raise CrmError(
            CrmErrorCode.INVALID_ALERT,
            _("La fin de l'alerte doit être dans l'avenir."),
            field="ends_at",
        )
    sectors = list(sectors)
    town = town_of_schema()
    with transaction.atomic():
        alert = Alert.objects.create(
            topic=topic, published_at=now, ends_at=ends_at, published_by=actor, **texts
        )
        alert.sectors.set(sectors)
        subscribed = AlertSubscription.objects.filter(topic=topic)
        if sectors:
            subscribed = subscribed.filter(Q(sector__isnull=True) | Q(sector__in=sectors))
        followers = Citizen.objects.filter(pk__in=subscribed.values("citizen"))
        for citizen in followers:
            notification_write(
                citizen=citizen,
                purpose=ConsentPurpose.ALERTS,
                kind=NotificationKind.ALERT,
                alert=alert,
                town=town,
                content_for=lambda language: _alert_content(alert, town),
            )
    return alert


def _alert_content(alert: Alert, town: Municipality) -> MessageContent:
    return MessageContent(
        subject=_("{topic} : {title}").format(topic=alert.topic, title=alert.localized("title")),
        paragraphs=[alert.localized("title"), alert.localized("body")],
        action_label=_("Voir les alertes et choisir les miennes"),
        action_url=town_url(town, reverse("portal:alerts")),
        reason=_(
            "Vous recevez cette alerte parce que vous suivez « {topic} » dans votre compte."
        ).format(topic=alert.topic),
    )


def alert_subscriptions_set(
    *, citizen: Citizen, topics: Iterable[AlertTopic], sectors: Iterable[Sector]
) -> list[AlertSubscription]:
    """Replace the citizen's subscriptions: each topic in each sector (no sector: anywhere in
    town)."""
    chosen: list[Sector | None] = list(sectors) or [None]
    topics = list(topics)
    with transaction.atomic():
        # Two saves at once (a double click) replace the subscriptions one after the other.
        Citizen.objects.select_for_update().filter(pk=citizen.pk).first()
        AlertSubscription.objects.filter(citizen=citizen).delete()
        return AlertSubscription.objects.bulk_create(
            AlertSubscription(citizen=citizen, topic=topic, sector=sector)
            for topic in topics
            for sector in chosen
        )


def alert_choices_set(
    *,
    actor: User | None,
    citizen: Citizen,
    topics: Iterable[AlertTopic],
    sectors: Iterable[Sector],
    channel: str,
) -> list[AlertSubscription]:
    """The portal's alerts form, in one transaction: the channel the citizen chooses for alerts
    (a consent, as `citizen_preferences_set` records it; withdrawn when no topic is chosen) and
    the topics and sectors they follow.
    Raises CrmError `invalid_channel` for topics chosen with no channel, and as
    citizen_preferences_set does (`invalid_phone` for text messages without a number)."""
    topics = list(topics)
    if topics and channel == "none":
        raise CrmError(
            CrmErrorCode.INVALID_CHANNEL,
            _("Choisissez le courriel ou le texto pour recevoir ces alertes."),
            field="channel",
        )
    if not topics:
        channel = "none"  # nothing followed: the consent to alerts is withdrawn
    with transaction.atomic():
        try:
            citizen_preferences_set(
                actor=actor, citizen=citizen, choices={ConsentPurpose.ALERTS: channel}
            )
        except CrmError as error:
            raise CrmError(error.code, error.message, field="channel") from error
        return alert_subscriptions_set(citizen=citizen, topics=topics, sectors=sectors)


def request_subscribe(*, citizen: Citizen, service_request: ServiceRequest) -> bool:
    """Follow an open request (the same problem, already reported) instead of filing a
    duplicate; returns False when already followed (or it is the citizen's own). Raises
    CrmError `illegal_transition` for a request that is no longer open."""
    if service_request.status not in OPEN_STATUSES:
        raise CrmError(
            CrmErrorCode.ILLEGAL_TRANSITION,
            _("Cette demande est terminée : elle ne peut plus être suivie."),
            status=409,
        )
    if service_request.citizen_id == citizen.pk:
        return False
    try:
        with transaction.atomic():
            RequestSubscription.objects.create(request=service_request, citizen=citizen)
    except IntegrityError:
        return False
    return True


def portal_request_follow(
    *, viewer: Viewer, service_request: ServiceRequest, contact: IntakeContact | None
) -> bool:
    """The portal's "Est-ce l'une de celles-ci?": follow an open request instead of reporting
    the same problem. A signed-in citizen follows it from their account; a visitor gives an
    e-mail or a phone, which makes a record of their own (never someone else's, as for a
    report). Returns False when already followed. Raises CrmError `empty_citizen` without
    contact details, `invalid_phone`, and as `request_subscribe` does."""
    citizen: Citizen | None
    with transaction.atomic():
        if viewer.role == CITIZEN and viewer.citizen is not None:
            citizen = viewer.citizen
        elif contact is None or not (contact.email or contact.phone):
            raise CrmError(
                CrmErrorCode.EMPTY_CITIZEN,
                _(
                    "Donnez votre courriel ou votre téléphone : c'est ainsi que la Ville vous "
                    "avisera des suites."
                ),
                field="email",
            )
        else:
            citizen = citizen_for_contact(contact=contact, match=False)
            assert citizen is not None  # noqa: S101  (an e-mail or a phone was given)
            # Their consent, by the channel they gave (the e-mail when they gave both).
            citizen_preferences_set(
                actor=None,
                citizen=citizen,
                choices={ConsentPurpose.REQUEST_FOLLOW_UP: "email" if citizen.email else "sms"},
            )
        return request_subscribe(citizen=citizen, service_request=service_request)


def request_unsubscribe(*, subscription: RequestSubscription) -> None:
    """Stop following a request (the link of the follower's messages, or their account)."""
    subscription.delete()
