"""Anonymisation: a person's identity leaves the town's records for good, while the requests
stay for statistics (numbers, types, statuses, dates, departments, SLA figures unchanged).

What goes (replaced by `ANONYMISED_TEXT` where the text was not empty):
- on the citizen records (the person's merged records too): names, contact data, notices
  chosen; the account, if any, is deactivated and stripped (a staff account is only detached);
- on their requests: description, cancellation reason, address (coordinates rounded to about
  100 m, the sector kept), media, free-text answers, channel detail other than an API key's
  name, and a new tracking token (the person's follow-up link stops working); files staff
  attached to them are deleted;
- in their requests' timelines: messages of notes, replies, status changes and notices, and
  the personal keys of events' data (an app's device or account id);
- the comments of their satisfaction surveys (the scores stay);
- interactions with the person or about their requests: the summary;
- the admin's history: the record's name in its entries.

The timeline is append-only in the database; the one exception is `_scrub_events`, whose
transaction declares itself to the guard trigger (migration 0011).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    ANONYMISED_TEXT,
    OPEN_STATUSES,
    AccessAction,
    AlertSubscription,
    AttributeDatatype,
    Channel,
    Citizen,
    EventKind,
    Interaction,
    Notification,
    NotificationStatus,
    RequestAttachment,
    RequestSubscription,
    ServiceAttribute,
    ServiceRequest,
)
from crm.privacy.records import citizen_record_group
from crm.services import access_log_record
from tenants.accounts.models import User

logger = logging.getLogger(__name__)

# Events whose message is free text written to or about the person.
TEXT_EVENT_KINDS = [
    EventKind.STATUS_CHANGED.value,
    EventKind.INTERNAL_NOTE.value,
    EventKind.PUBLIC_REPLY.value,
    EventKind.NOTIFICATION_SENT.value,
]
# Keys of an event's data that identify a person or their device (Open311 intake and notices).
PERSONAL_EVENT_KEYS = [
    "device_id",
    "account_id",
    "address_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "recipient",
]
# Coordinates keep three decimals (about 100 m): enough for maps by district, not a house.
COORDINATE_DECIMALS = 3


@dataclass(frozen=True)
class AnonymisationResult:
    citizen_id: int
    records: int
    requests: int
    events: int
    interactions: int
    account: str  # "none", "deactivated" or "detached" (a staff account is left as it is)


def _scrub_attributes(request_ids: Sequence[int]) -> None:
    """Remove free-text answers (string and text questions); choices, numbers and dates stay."""
    free_text: dict[int, list[str]] = {}
    for service_type_id, code in ServiceAttribute.objects.filter(
        service_type__requests__id__in=request_ids,
        datatype__in=[AttributeDatatype.STRING, AttributeDatatype.TEXT],
    ).values_list("service_type_id", "code"):
        free_text.setdefault(service_type_id, []).append(code)
    with connection.cursor() as cursor:
        for service_type_id, codes in free_text.items():
            cursor.execute(
                "UPDATE crm_servicerequest SET attributes = attributes - %s::text[] "
                "WHERE id = ANY(%s) AND service_type_id = %s",
                [sorted(set(codes)), list(request_ids), service_type_id],
            )


def _scrub_events(request_ids: Sequence[int]) -> int:
    """Blank the personal text and keys of these requests' timeline events (set-based). The
    guard trigger lets exactly this through, and only inside this transaction."""
    with connection.cursor() as cursor:
        # Local to the transaction (and undone with it if the update fails); set back at once
        # so nothing else in this transaction passes the guard.
        cursor.execute("SELECT set_config('relais.anonymising', 'on', true)")
        cursor.execute(
            "UPDATE crm_requestevent SET "
            "message = CASE WHEN message <> '' AND kind = ANY(%(kinds)s) "
            "THEN %(marker)s ELSE message END, "
            "data = (data - %(keys)s::text[]) || '{\"anonymised\": true}'::jsonb "
            "WHERE request_id = ANY(%(ids)s) AND ("
            "(message NOT IN ('', %(marker)s) AND kind = ANY(%(kinds)s)) "
            "OR data ?| %(keys)s::text[])",
            {
                "kinds": TEXT_EVENT_KINDS,
                "marker": ANONYMISED_TEXT,
                "keys": PERSONAL_EVENT_KEYS,
                "ids": list(request_ids),
            },
        )
        scrubbed = cursor.rowcount
        cursor.execute("SELECT set_config('relais.anonymising', 'off', true)")
    return scrubbed


def _drop_attachments(request_ids: Sequence[int]) -> None:
    """Files staff attached (photos of a home, a letter) are personal data with no statistical
    use: their rows go with the transaction, their files once it commits."""
    attachments = RequestAttachment.objects.filter(request_id__in=list(request_ids))
    paths = [attachment.file.path for attachment in attachments.only("file")]
    if not paths:
        return
    attachments.delete()

    def remove_files() -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    transaction.on_commit(remove_files)


def requests_scrub(
    *, request_ids: Sequence[int], detach_citizen: bool, now: datetime
) -> tuple[int, int]:
    """Remove the personal data of these requests and of their timelines (and their attached
    files), in a few set-based statements whatever their number. Call inside a transaction.
    Returns (requests, events)."""
    if not request_ids:
        return 0, 0
    _scrub_attributes(request_ids)
    _drop_attachments(request_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_servicerequest SET "
            "description = CASE WHEN description = '' THEN '' ELSE %(marker)s END, "
            "cancellation_reason = CASE WHEN cancellation_reason = '' THEN '' "
            "ELSE %(marker)s END, "
            "address = '', media_url = '', "
            "latitude = round(latitude, %(decimals)s), longitude = round(longitude, %(decimals)s), "
            "channel_detail = CASE WHEN channel = %(api)s THEN channel_detail ELSE '' END, "
            "tracking_token = replace(gen_random_uuid()::text, '-', ''), "
            "citizen_id = CASE WHEN %(detach)s THEN NULL ELSE citizen_id END, "
            "anonymised_at = %(now)s "
            "WHERE id = ANY(%(ids)s)",
            {
                "marker": ANONYMISED_TEXT,
                "decimals": COORDINATE_DECIMALS,
                "api": Channel.API.value,
                "detach": detach_citizen,
                "now": now,
                "ids": list(request_ids),
            },
        )
        requests = cursor.rowcount
        cursor.execute(
            "UPDATE crm_satisfactionresponse SET "
            "comment = CASE WHEN comment = '' THEN '' ELSE %(marker)s END "
            "WHERE request_id = ANY(%(ids)s)",
            {"marker": ANONYMISED_TEXT, "ids": list(request_ids)},
        )
    return requests, _scrub_events(request_ids)


def _strip_account(user: User) -> str:
    if user.is_staff:
        # An employee's own account is not the citizen's data to erase: only the link goes.
        return "detached"
    user.email = f"anonyme-{user.pk}@anonyme.invalid"
    user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    return "deactivated"


def records_anonymise(*, citizen_ids: Sequence[int], now: datetime) -> AnonymisationResult:
    """Anonymise one person's records (the first id is the kept record) and everything that
    names them. Call inside a transaction, with the records locked; nothing is checked here."""
    request_ids = list(
        ServiceRequest.objects.filter(citizen_id__in=citizen_ids).values_list("pk", flat=True)
    )
    requests, events = requests_scrub(request_ids=request_ids, detach_citizen=False, now=now)
    interaction_count = Interaction.objects.filter(
        Q(citizen_id__in=citizen_ids) | Q(request_id__in=request_ids)
    ).update(summary=ANONYMISED_TEXT)
    # The messages written to them: what they said goes, and those not yet sent never will be.
    Notification.objects.filter(
        citizen_id__in=citizen_ids, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.FAILED, last_error=ANONYMISED_TEXT)
    Notification.objects.filter(citizen_id__in=citizen_ids).update(
        recipient=Concat(Value("anonyme-"), Cast("pk", CharField())),
        subject=ANONYMISED_TEXT,
        body_text=ANONYMISED_TEXT,
        body_html="",
    )
    AlertSubscription.objects.filter(citizen_id__in=citizen_ids).delete()
    RequestSubscription.objects.filter(citizen_id__in=citizen_ids).delete()
    account = "none"
    for user in User.objects.filter(citizen__pk__in=citizen_ids).order_by("pk"):
        account = _strip_account(user)
    Citizen.objects.filter(pk__in=citizen_ids).update(
        first_name="",
        last_name="",
        email="",
        phone="",
        address="",
        notify_by_email=False,
        notify_by_sms=False,
        notify_by_phone=False,
        account=None,
        anonymised_at=now,
    )
    citizen_type = ContentType.objects.get_for_model(Citizen)
    for citizen_id in citizen_ids:
        LogEntry.objects.filter(content_type=citizen_type, object_id=str(citizen_id)).update(
            object_repr=f"#{citizen_id}"
        )
    return AnonymisationResult(
        citizen_id=citizen_ids[0],
        records=len(citizen_ids),
        requests=requests,
        events=events,
        interactions=interaction_count,
        account=account,
    )


def citizen_anonymise(
    *,
    actor: User | None,
    citizen: Citizen,
    reason: str,
    context: str,
    now: datetime | None = None,
) -> AnonymisationResult:
    """Anonymise a person, irreversibly: the record (or the record it was merged into) and
    every record merged into it. Written to the access log with its reason.

    Raises CrmError `purpose_required` without a reason, `already_anonymised` (409) the second
    time, and `open_requests` (409) while a request of theirs is still being handled (close or
    cancel it first: the town still needs the person to finish it). Nothing changes then."""
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(
            CrmErrorCode.PURPOSE_REQUIRED,
            _("Indiquez le motif de l'anonymisation."),
            field="reason",
        )
    now = now or timezone.now()
    with transaction.atomic():
        # A merge locks both of its records: once the root is locked, no record can join or
        # leave the group, which is then read again (a merge may have committed meanwhile).
        root_id = citizen_record_group(citizen=citizen)[0]
        Citizen.objects.select_for_update().filter(pk=root_id).first()
        group = citizen_record_group(citizen=citizen)
        records = {
            record.pk: record
            for record in Citizen.objects.select_for_update().filter(pk__in=group).order_by("pk")
        }
        kept = records[group[0]]
        if kept.anonymised_at is not None:
            raise CrmError(
                CrmErrorCode.ALREADY_ANONYMISED,
                _("Cette fiche est déjà anonymisée."),
                status=409,
            )
        open_requests = ServiceRequest.objects.filter(
            citizen_id__in=group, status__in=OPEN_STATUSES
        ).count()
        if open_requests:
            raise CrmError(
                CrmErrorCode.OPEN_REQUESTS,
                _(
                    "Cette personne a {count} requête(s) en cours : fermez-les ou annulez-les "
                    "avant d'anonymiser sa fiche."
                ).format(count=open_requests),
                status=409,
            )
        result = records_anonymise(citizen_ids=group, now=now)
        access_log_record(
            actor=actor,
            citizen=kept,
            action=AccessAction.ERASE,
            purpose=reason,
            context=context,
            details=(
                f"{result.records} fiche(s), {result.requests} requête(s), "
                f"{result.interactions} interaction(s)"
            ),
        )
    logger.info(
        "citizen anonymised: citizen=%s records=%s requests=%s",
        result.citizen_id,
        result.records,
        result.requests,
    )
    return result


def account_self_delete(
    *, user: User, citizen: Citizen, password: str, now: datetime | None = None
) -> AnonymisationResult:
    """A citizen deletes their own account from the portal: the password confirms it is them,
    then their records are anonymised as `citizen_anonymise` does (the account is deactivated,
    their requests stay without their identity). Raises CrmError `wrong_password`, and
    `open_requests` (409) while a request of theirs is still being handled."""
    if not password or not user.check_password(password):
        raise CrmError(
            CrmErrorCode.WRONG_PASSWORD,
            _("Ce mot de passe n'est pas celui de votre compte."),
            field="password",
        )
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Suppression du compte par la personne (portail)")
    try:
        return citizen_anonymise(
            actor=user, citizen=citizen, reason=reason, context="portail", now=now
        )
    except CrmError as error:
        if error.code != CrmErrorCode.OPEN_REQUESTS:
            raise
        open_count = ServiceRequest.objects.filter(
            citizen_id__in=citizen_record_group(citizen=citizen), status__in=OPEN_STATUSES
        ).count()
        raise CrmError(
            CrmErrorCode.OPEN_REQUESTS,
            ngettext(
                "Vous avez {count} demande en cours : la Ville a besoin de vos coordonnées pour "
                "la traiter. Vous pourrez supprimer votre compte quand elle sera terminée.",
                "Vous avez {count} demandes en cours : la Ville a besoin de vos coordonnées pour "
                "les traiter. Vous pourrez supprimer votre compte quand elles seront terminées.",
                open_count,
            ).format(count=open_count),
            status=409,
        ) from error
