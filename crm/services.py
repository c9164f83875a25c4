"""Writes of the CRM. Each is keyword-only, validates before writing, runs in one transaction
and writes its timeline or audit row in that same transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import selectors
from crm.attributes import clean_answers
from crm.business_time import WorkingCalendar
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    API_KEY_PREFIX_LENGTH,
    AccessAction,
    AccessLog,
    ApiKey,
    ApiScope,
    Channel,
    Citizen,
    CitizenMerge,
    Consent,
    ConsentPurpose,
    Department,
    EventKind,
    FaqArticle,
    FaqArticleVersion,
    FaqStatus,
    Interaction,
    Priority,
    RequestEvent,
    RequestStatus,
    Sector,
    ServiceKind,
    ServiceRequest,
    ServiceType,
    SlaUnit,
    StaffProfile,
    StaffRole,
    Visibility,
    api_key_digest,
    new_api_key,
)
from tenants.accounts.models import User

# Québec, generously: a coordinate outside is a typo (or a swapped latitude and longitude).
LATITUDE_BOUNDS = (Decimal("44.9"), Decimal("62.7"))
LONGITUDE_BOUNDS = (Decimal("-79.8"), Decimal("-57.0"))
DESCRIPTION_MAX = 4000
FAQ_ANSWER_MAX = 20_000
MEDIA_URL_MAX = 500

S = RequestStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
    S.DUPLICATE: frozenset(),
}


def _who(actor: User | None) -> User | None:
    """The user to record as author: nobody for anonymous or system actions."""
    return actor if actor is not None and actor.is_authenticated else None


# --- Requests ------------------------------------------------------------------------------------
def _next_request_number(year: int) -> str:
    """The next number of `year`, gap-free: the counter row stays locked until the creating
    transaction ends, and a rolled-back creation rolls the increment back with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_requestcounter (year, last_number) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last_number = crm_requestcounter.last_number + 1 "
            "RETURNING last_number",
            [year],
        )
        (number,) = cursor.fetchone()
    return f"{year}-{number:06d}"


def _coordinate(value: object, bounds: tuple[Decimal, Decimal], field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not bounds[0] <= number <= bounds[1]:
        label = _("La latitude") if field == "latitude" else _("La longitude")
        raise CrmError(
            CrmErrorCode.INVALID_LOCATION,
            _("{label} {value} est hors du Québec (entre {low} et {high}).").format(
                label=label, value=value, low=bounds[0], high=bounds[1]
            ),
            field=field,
        )
    return number.quantize(Decimal("0.000001"))


def _sla_times(
    service_type: ServiceType, start: datetime, calendar: WorkingCalendar
) -> tuple[datetime | None, datetime | None]:
    """Due time, and the moment the town's warning share of the working time is used."""
    if not service_type.sla_value:
        return None, None
    if service_type.sla_unit == SlaUnit.HOURS:
        due = calendar.add_minutes(start, service_type.sla_value * 60)
    else:
        due = calendar.add_days(start, service_type.sla_value)
    share = selectors.crm_settings().sla_warning_ratio / 100
    warn = calendar.add_minutes(start, int(calendar.minutes_between(start, due) * share))
    return due, warn


def _current_citizen(citizen: Citizen | None) -> Citizen | None:
    """A merged record stands for the one it was merged into.

    Raises CrmError `citizen_anonymised` for an anonymised record: nothing new is attached to
    a person the town no longer identifies."""
    hops = 0
    while citizen is not None and citizen.merged_into_id is not None and hops < 10:
        citizen = Citizen.objects.get(pk=citizen.merged_into_id)
        hops += 1
    if citizen is not None:
        _refuse_anonymised(citizen)
    return citizen


def _refuse_anonymised(citizen: Citizen) -> None:
    if citizen.anonymised_at is not None:
        raise CrmError(
            CrmErrorCode.CITIZEN_ANONYMISED,
            _("Cette fiche de citoyen a été anonymisée : elle ne peut plus être modifiée ni liée."),
            field="citizen",
            status=409,
        )


def _event(
    service_request: ServiceRequest,
    kind: str,
    *,
    actor: User | None,
    visibility: str = Visibility.INTERNAL,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    data: Mapping[str, object] | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        created_at=at or timezone.now(),
        request=service_request,
        kind=kind,
        actor=_who(actor),
        visibility=visibility,
        message=message,
        from_status=from_status,
        to_status=to_status,
        data=dict(data or {}),
    )


def request_create(
    *,
    actor: User | None,
    service_type: ServiceType,
    channel: str,
    description: str = "",
    citizen: Citizen | None = None,
    address: str = "",
    latitude: object = None,
    longitude: object = None,
    sector: Sector | None = None,
    attributes: Mapping[str, object] | None = None,
    priority: str | None = None,
    channel_detail: str = "",
    close_at_intake: bool = False,
    now: datetime | None = None,
    media_url: str = "",
    intake_data: Mapping[str, object] | None = None,
) -> ServiceRequest:
    """Create a request, numbered, routed, with its SLA due time and its first timeline event.

    `intake_data` is kept on the creation event (e.g. an app's device id), never shown publicly.
    `close_at_intake` records an information request answered at first contact as closed.
    Raises CrmError for an inactive type, a bad channel or priority, a missing or implausible
    location, invalid attribute answers, or a description over 4,000 characters.
    """
    now = now or timezone.now()
    if not service_type.is_active:
        raise CrmError(
            CrmErrorCode.INACTIVE_SERVICE,
            _("Le type de requête {code} n'est plus offert.").format(code=service_type.code),
            field="service_type",
        )
    if channel not in Channel.values:
        raise CrmError(
            CrmErrorCode.INVALID_CHANNEL,
            _("Canal inconnu : {channel}.").format(channel=channel),
            field="channel",
        )
    priority = priority or service_type.default_priority
    if priority not in Priority.values:
        raise CrmError(
            CrmErrorCode.INVALID_PRIORITY,
            _("Priorité inconnue : {priority}.").format(priority=priority),
            field="priority",
        )
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise CrmError(
            CrmErrorCode.DESCRIPTION_TOO_LONG,
            _("La description dépasse {limit} caractères.").format(limit=DESCRIPTION_MAX),
            field="description",
        )
    has_coordinates = latitude not in (None, "") or longitude not in (None, "")
    lat = lon = None
    if has_coordinates:
        if latitude in (None, "") or longitude in (None, ""):
            raise CrmError(
                CrmErrorCode.INVALID_LOCATION,
                _("Donnez la latitude et la longitude, ou ni l'une ni l'autre."),
                field="latitude" if latitude in (None, "") else "longitude",
            )
        lat = _coordinate(latitude, LATITUDE_BOUNDS, "latitude")
        lon = _coordinate(longitude, LONGITUDE_BOUNDS, "longitude")
    address = (address or "").strip()
    if service_type.location_required and lat is None and not address:
        raise CrmError(
            CrmErrorCode.LOCATION_REQUIRED,
            _("Ce type de requête demande un lieu : une adresse ou des coordonnées."),
            field="location",
        )
    if close_at_intake and service_type.kind != ServiceKind.INFORMATION:
        raise CrmError(
            CrmErrorCode.NOT_INFORMATION,
            _("Seule une demande d'information peut être fermée dès sa réception."),
            field="service_type",
        )
    media_url = (media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError as error:
            raise CrmError(
                CrmErrorCode.INVALID_MEDIA_URL,
                _("L'adresse du média n'est pas une adresse web valide."),
                field="media_url",
            ) from error
        if len(media_url) > MEDIA_URL_MAX:
            raise CrmError(
                CrmErrorCode.INVALID_MEDIA_URL,
                _("L'adresse du média dépasse {limit} caractères.").format(limit=MEDIA_URL_MAX),
                field="media_url",
            )
    answers = clean_answers(service_type.attributes.all(), attributes)
    department = selectors.routed_department(service_type=service_type, sector=sector)
    calendar = selectors.working_calendar()
    sla_due_at, sla_warn_at = _sla_times(service_type, now, calendar)

    with transaction.atomic():
        citizen = _current_citizen(citizen)
        local_year = now.astimezone(calendar.tz).year  # the town's year, not the server's
        service_request = ServiceRequest(
            number=_next_request_number(local_year),
            service_type=service_type,
            kind=service_type.kind,
            priority=priority,
            description=description,
            address=address,
            latitude=lat,
            longitude=lon,
            sector=sector,
            channel=channel,
            channel_detail=channel_detail[:120],
            citizen=citizen,
            attributes=answers,
            media_url=media_url,
            department=department,
            created_by=_who(actor),
            sla_due_at=sla_due_at,
            sla_warn_at=sla_warn_at,
            created_at=now,
        )
        service_request.save()
        _event(
            service_request,
            EventKind.CREATED,
            actor=actor,
            visibility=Visibility.PUBLIC,
            to_status=S.NEW,
            data={"channel": channel, "department": department.code, **(intake_data or {})},
            at=now,
        )
        if close_at_intake:
            service_request.status = S.CLOSED
            service_request.first_contact_resolution = True
            service_request.resolved_at = service_request.closed_at = now
            service_request.save(
                update_fields=["status", "first_contact_resolution", "resolved_at", "closed_at"]
            )
            _event(
                service_request,
                EventKind.STATUS_CHANGED,
                actor=actor,
                visibility=Visibility.PUBLIC,
                from_status=S.NEW,
                to_status=S.CLOSED,
                message=_("Répondue au premier contact."),
                at=now,
            )
    return service_request


def _locked(service_request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=service_request.pk)


def request_change_status(
    *,
    actor: User | None,
    service_request: ServiceRequest,
    status: str,
    message: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """Move a request along its workflow. Putting it on hold pauses its SLA; leaving hold
    extends the due time by the working time spent on hold.

    Raises CrmError `illegal_transition` (nothing changes) when the workflow forbids the move.
    """
    now = now or timezone.now()
    if status not in S.values:
        raise CrmError(
            CrmErrorCode.INVALID_STATUS,
            _("Statut inconnu : {status}.").format(status=status),
            field="status",
        )
    if status in {S.CANCELLED, S.DUPLICATE}:
        raise CrmError(
            CrmErrorCode.USE_DEDICATED_ACTION,
            _("Utilisez l'annulation ou la fusion pour ce statut."),
            field="status",
        )
    with transaction.atomic():
        current = _locked(service_request)
        if status not in ALLOWED_TRANSITIONS[current.status]:
            raise CrmError(
                CrmErrorCode.ILLEGAL_TRANSITION,
                _("Une requête « {current} » ne peut pas passer à « {target} ».").format(
                    current=S(current.status).label, target=S(status).label
                ),
                status=409,
                field="status",
            )
        previous = current.status
        if previous == S.ON_HOLD and current.sla_paused_at is not None:
            if current.sla_due_at is not None:
                calendar = selectors.working_calendar()
                paused = calendar.minutes_between(current.sla_paused_at, now)
                current.sla_due_at = calendar.add_minutes(current.sla_due_at, paused)
                if current.sla_warn_at is not None:
                    current.sla_warn_at = calendar.add_minutes(current.sla_warn_at, paused)
            current.sla_paused_at = None
        if status == S.ON_HOLD:
            current.sla_paused_at = now
        if status == S.RESOLVED:
            current.resolved_at = now
        if status == S.CLOSED:
            current.closed_at = now
        if status == S.IN_PROGRESS and previous == S.RESOLVED:
            current.resolved_at = None
        current.status = status
        current.save()
        _event(
            current,
            EventKind.STATUS_CHANGED,
            actor=actor,
            visibility=Visibility.PUBLIC,
            from_status=previous,
            to_status=status,
            message=message.strip(),
            at=now,
        )
    return current


def request_assign(
    *,
    actor: User | None,
    service_request: ServiceRequest,
    department: Department | None = None,
    assignee: User | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    """Give a request to a department and/or a person; a new request becomes "assigned"."""
    if department is None and assignee is None:
        raise CrmError(
            CrmErrorCode.NOTHING_TO_ASSIGN,
            _("Choisissez un service ou une personne."),
            field="assignee",
        )
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise CrmError(
            CrmErrorCode.NOT_STAFF,
            _("Seul un employé actif de la Ville peut être responsable d'une requête."),
            field="assignee",
        )
    with transaction.atomic():
        current = _locked(service_request)
        if not current.is_open:
            raise CrmError(
                CrmErrorCode.REQUEST_NOT_OPEN,
                _("La requête {number} est fermée : on ne peut plus l'assigner.").format(
                    number=current.number
                ),
                status=409,
            )
        previous_status = current.status
        if department is not None:
            current.department = department
        current.assignee = assignee if assignee is not None else current.assignee
        if current.status == S.NEW:
            current.status = S.ASSIGNED
        current.save()
        _event(
            current,
            EventKind.ASSIGNED,
            actor=actor,
            from_status=previous_status,
            to_status=current.status,
            data={
                "department": current.department.code,
                "assignee": current.assignee_id,
            },
            at=now,
        )
    return current


def request_add_note(
    *,
    actor: User | None,
    service_request: ServiceRequest,
    message: str,
    public: bool,
    now: datetime | None = None,
) -> RequestEvent:
    """An internal note (staff only) or a public reply (shown to the citizen)."""
    message = (message or "").strip()
    if not message:
        raise CrmError(CrmErrorCode.EMPTY_MESSAGE, _("Le message est vide."), field="message")
    if len(message) > DESCRIPTION_MAX:
        raise CrmError(
            CrmErrorCode.MESSAGE_TOO_LONG,
            _("Le message dépasse {limit} caractères.").format(limit=DESCRIPTION_MAX),
            field="message",
        )
    with transaction.atomic():
        return _event(
            service_request,
            EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE,
            actor=actor,
            visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
            message=message,
            at=now,
        )


def request_cancel(
    *,
    actor: User | None,
    service_request: ServiceRequest,
    reason: str,
    now: datetime | None = None,
) -> ServiceRequest:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(
            CrmErrorCode.REASON_REQUIRED, _("Indiquez le motif de l'annulation."), field="reason"
        )
    with transaction.atomic():
        current = _locked(service_request)
        if S.CANCELLED not in ALLOWED_TRANSITIONS[current.status]:
            raise CrmError(
                CrmErrorCode.ILLEGAL_TRANSITION,
                _("Une requête « {current} » ne peut pas être annulée.").format(
                    current=S(current.status).label
                ),
                status=409,
            )
        previous = current.status
        current.status = S.CANCELLED
        current.cancellation_reason = reason
        current.closed_at = now
        current.sla_paused_at = None
        current.save()
        _event(
            current,
            EventKind.STATUS_CHANGED,
            actor=actor,
            visibility=Visibility.PUBLIC,
            from_status=previous,
            to_status=S.CANCELLED,
            message=reason,
            at=now,
        )
    return current


def request_merge(
    *,
    actor: User | None,
    duplicate: ServiceRequest,
    parent: ServiceRequest,
    now: datetime | None = None,
) -> ServiceRequest:
    """Fold an open request into another open one: the duplicate is closed as "duplicate" and
    points to its parent; both timelines say so."""
    if duplicate.pk == parent.pk:
        raise CrmError(
            CrmErrorCode.MERGE_INTO_ITSELF, _("Une requête ne peut pas être son propre doublon.")
        )
    with transaction.atomic():
        first, second = sorted([duplicate.pk, parent.pk])  # lock in a fixed order: no deadlock
        locked = {
            r.pk: r
            for r in ServiceRequest.objects.select_for_update().filter(pk__in=[first, second])
        }
        child, kept = locked[duplicate.pk], locked[parent.pk]
        for request in (child, kept):
            if not request.is_open:
                raise CrmError(
                    CrmErrorCode.REQUEST_NOT_OPEN,
                    _("La requête {number} est fermée : elle ne peut pas être fusionnée.").format(
                        number=request.number
                    ),
                    status=409,
                )
        previous = child.status
        child.status = S.DUPLICATE
        child.duplicate_of = kept
        child.closed_at = now or timezone.now()
        child.sla_paused_at = None
        child.save()
        _event(
            child,
            EventKind.MERGED,
            actor=actor,
            visibility=Visibility.PUBLIC,
            from_status=previous,
            to_status=S.DUPLICATE,
            message=_("Doublon de la requête {number}.").format(number=kept.number),
            data={"parent": kept.number},
            at=now,
        )
        _event(
            kept,
            EventKind.MERGED,
            actor=actor,
            message=_("La requête {number} y a été fusionnée.").format(number=child.number),
            data={"duplicate": child.number},
            at=now,
        )
    return child


def request_check_sla(*, now: datetime | None = None) -> tuple[int, int]:
    """Record SLA warnings and breaches of open requests (run every few minutes).

    Returns (warnings, breaches) newly recorded. Requests on hold are skipped: their clock is
    paused. Two indexed UPDATE … RETURNING statements and one insert of timeline events, so a
    run costs the same whatever the number of open requests.
    """
    now = now or timezone.now()
    running = [S.NEW, S.ASSIGNED, S.IN_PROGRESS]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_servicerequest SET sla_breached_at = %s WHERE status = ANY(%s) "
            "AND sla_due_at <= %s AND sla_breached_at IS NULL RETURNING id",
            [now, running, now],
        )
        breached = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE crm_servicerequest SET sla_warned_at = %s WHERE status = ANY(%s) "
            "AND sla_warn_at <= %s AND sla_due_at > %s AND sla_warned_at IS NULL RETURNING id",
            [now, running, now, now],
        )
        warned = [row[0] for row in cursor.fetchall()]
        RequestEvent.objects.bulk_create(
            [
                RequestEvent(request_id=pk, kind=EventKind.SLA_BREACHED, created_at=now)
                for pk in breached
            ]
            + [
                RequestEvent(request_id=pk, kind=EventKind.SLA_WARNING, created_at=now)
                for pk in warned
            ]
        )
    return len(warned), len(breached)


# --- Citizens ------------------------------------------------------------------------------------
_CITIZEN_FIELDS = ("first_name", "last_name", "email", "phone", "address", "preferred_language")
CITIZEN_FIELDS = (*_CITIZEN_FIELDS, "notify_by_email", "notify_by_sms", "notify_by_phone")


def normalize_phone(raw: str) -> str:
    """ASCII digits only, without the North American country code: "+1 (450) 555-1234" →
    4505551234. Digits of any script count as theirs ("４５０" is 450), so the number is
    stored, searched and dialled in ASCII."""
    digits = "".join(
        str(unicodedata.decimal(character)) for character in raw or "" if character.isdecimal()
    )
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def citizen_validate(citizen: Citizen) -> Citizen:
    """Normalize and validate contact data in place. Raises CrmError naming the field."""
    citizen.email = (citizen.email or "").strip().lower()
    raw_phone = citizen.phone
    citizen.phone = normalize_phone(citizen.phone)
    if raw_phone and len(citizen.phone) != 10:
        raise CrmError(
            CrmErrorCode.INVALID_PHONE,
            _("Le numéro de téléphone {phone} doit compter 10 chiffres.").format(phone=raw_phone),
            field="phone",
        )
    if not (citizen.email or citizen.phone or citizen.first_name or citizen.last_name):
        raise CrmError(
            CrmErrorCode.EMPTY_CITIZEN,
            _("Donnez au moins un nom, un courriel ou un numéro de téléphone."),
            field="email",
        )
    try:
        citizen.full_clean(exclude=["account", "merged_into"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CrmError(CrmErrorCode.INVALID_CITIZEN, messages[0], field=field) from error
    return citizen


def citizen_create(*, actor: User | None, **fields: object) -> Citizen:
    """Create a citizen record. Fields: first_name, last_name, email, phone, address,
    preferred_language, notify_by_email, notify_by_sms, notify_by_phone."""
    citizen = citizen_validate(Citizen(**fields))
    with transaction.atomic():
        citizen.save()
    return citizen


def citizen_update(*, actor: User | None, citizen: Citizen, **fields: object) -> Citizen:
    unknown = set(fields) - {
        *_CITIZEN_FIELDS,
        "notify_by_email",
        "notify_by_sms",
        "notify_by_phone",
    }
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    with transaction.atomic():
        current = Citizen.objects.select_for_update().get(pk=citizen.pk)
        _refuse_anonymised(current)
        for name, value in fields.items():
            setattr(current, name, value)
        citizen_validate(current).save()
    return current


def consent_record(
    *, actor: User | None, citizen: Citizen, purpose: str, granted: bool, channel: str = ""
) -> Consent:
    """Record a consent given or withdrawn; the history is kept, the latest one counts."""
    if purpose not in ConsentPurpose.values:
        raise CrmError(
            CrmErrorCode.INVALID_PURPOSE,
            _("Finalité de consentement inconnue : {purpose}.").format(purpose=purpose),
            field="purpose",
        )
    _refuse_anonymised(citizen)
    with transaction.atomic():
        return Consent.objects.create(
            citizen=citizen,
            purpose=purpose,
            granted=granted,
            channel=channel,
            recorded_by=_who(actor),
        )


def citizen_merge(*, actor: User | None, kept: Citizen, merged: Citizen) -> CitizenMerge:
    """Fold `merged` into `kept`: requests, interactions and consents move to `kept`, its empty
    contact fields are filled from `merged`, and `merged` stays as a trace pointing to `kept`."""
    if kept.pk == merged.pk:
        raise CrmError(
            CrmErrorCode.MERGE_INTO_ITSELF,
            _("Une fiche ne peut pas être fusionnée avec elle-même."),
        )
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Citizen.objects.select_for_update().filter(pk__in=sorted([kept.pk, merged.pk]))
        }
        target, source = locked[kept.pk], locked[merged.pk]
        _refuse_anonymised(target)
        _refuse_anonymised(source)
        if target.merged_into_id or source.merged_into_id:
            raise CrmError(
                CrmErrorCode.ALREADY_MERGED,
                _("L'une de ces fiches a déjà été fusionnée dans une autre."),
                status=409,
            )
        moved = {
            "requests": ServiceRequest.objects.filter(citizen=source).update(citizen=target),
            "interactions": Interaction.objects.filter(citizen=source).update(citizen=target),
            "consents": Consent.objects.filter(citizen=source).update(citizen=target),
        }
        filled = []
        for name in _CITIZEN_FIELDS:
            if not getattr(target, name) and getattr(source, name):
                setattr(target, name, getattr(source, name))
                filled.append(name)
        if target.account_id is None and source.account_id is not None:
            target.account_id, source.account_id = source.account_id, None
            filled.append("account")
        moved["filled"] = filled  # type: ignore[assignment]
        source.merged_into = target
        source.save()
        target.save()
        return CitizenMerge.objects.create(
            kept=target,
            merged=source,
            actor=_who(actor),
            moved=moved,
        )


def access_list_log_record(
    *, actor: User | None, purpose: str, context: str, details: str
) -> AccessLog:
    """Log that `actor` saw a list or search result of citizens (no single record)."""
    with transaction.atomic():
        return AccessLog.objects.create(
            actor=_who(actor),
            citizen=None,
            action=AccessAction.VIEW,
            purpose=purpose[:300],
            context=context[:120],
            details=details[:300],
        )


def _access_purpose(action: str, purpose: str) -> str:
    purpose = (purpose or "").strip()
    if action not in AccessAction.values:
        raise CrmError(
            CrmErrorCode.INVALID_ACTION, _("Action inconnue : {action}.").format(action=action)
        )
    if not purpose:
        raise CrmError(
            CrmErrorCode.PURPOSE_REQUIRED,
            _("Indiquez pourquoi vous consultez ces renseignements personnels."),
            field="purpose",
        )
    return purpose[:300]


def access_log_record(
    *,
    actor: User | None,
    citizen: Citizen,
    action: str,
    purpose: str,
    context: str = "",
    details: str = "",
) -> AccessLog:
    """Log that `actor` viewed, exported or anonymised `citizen`'s personal information, and
    why (Law 25). No actor: the command line or an automatic task. Raises CrmError
    `purpose_required` without a purpose."""
    purpose = _access_purpose(action, purpose)
    with transaction.atomic():
        return AccessLog.objects.create(
            actor=_who(actor),
            citizen=citizen,
            action=action,
            purpose=purpose,
            context=context[:120],
            details=details[:300],
        )


def access_log_record_many(
    *, actor: User, details_by_citizen: Mapping[int, str], purpose: str, context: str
) -> int:
    """Log that `actor` saw several citizens at once (a page of requests): one row per citizen,
    written in one INSERT whatever their number. Returns the number of rows."""
    purpose = _access_purpose(AccessAction.VIEW, purpose)
    rows = [
        AccessLog(
            actor=actor,
            citizen_id=citizen_id,
            action=AccessAction.VIEW,
            purpose=purpose,
            context=context[:120],
            details=details[:300],
        )
        for citizen_id, details in details_by_citizen.items()
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)
    return len(rows)


def access_log_requests_seen(
    *,
    actor: User,
    service_requests: Iterable[ServiceRequest],
    purpose: str | None,
    context: str,
) -> int:
    """Log that `actor` saw these requests with their citizens' data: one row per citizen
    shown, naming the requests, in one INSERT. Without a stated `purpose`, it is derived from
    what was shown ("Traitement de la requête 2026-000123" for one request). Returns the
    number of rows written."""
    shown = list(service_requests)
    numbers: dict[int, list[str]] = {}
    for service_request in shown:
        if service_request.citizen_id is not None:
            numbers.setdefault(service_request.citizen_id, []).append(service_request.number)
    if not numbers:
        return 0
    purpose = (purpose or "").strip()
    if not purpose:
        with translation.override(settings.LANGUAGE_CODE):
            purpose = (
                _("Traitement de la requête {number}").format(number=shown[0].number)
                if len(shown) == 1
                else _("Consultation d'une liste de requêtes")
            )
    with translation.override(settings.LANGUAGE_CODE):
        details = {
            citizen_id: _("Requête(s) {numbers}").format(numbers=", ".join(found))
            for citizen_id, found in numbers.items()
        }
    return access_log_record_many(
        actor=actor, details_by_citizen=details, purpose=purpose, context=context
    )


# --- Information bank ----------------------------------------------------------------------------
FAQ_FIELDS = (
    "question_fr",
    "answer_fr",
    "question_en",
    "answer_en",
    "category",
    "audience",
    "status",
    "owner_department",
    "review_on",
)


def _snapshot(article: FaqArticle, actor: User | None) -> FaqArticleVersion:
    return FaqArticleVersion.objects.create(
        article=article,
        version=article.version,
        question_fr=article.question_fr,
        answer_fr=article.answer_fr,
        question_en=article.question_en,
        answer_en=article.answer_en,
        audience=article.audience,
        status=article.status,
        category_id=article.category_id,
        owner_department_id=article.owner_department_id,
        review_on=article.review_on,
        service_type_codes=sorted(article.service_types.values_list("code", flat=True)),
        edited_by=_who(actor),
    )


def faq_article_validate(article: FaqArticle) -> FaqArticle:
    """Raises CrmError naming the field when the article cannot be saved as it is."""
    try:
        article.full_clean(exclude=["uuid", "search_vector", "question_vector"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CrmError(CrmErrorCode.INVALID_ARTICLE, messages[0], field=field) from error
    for field in ("answer_fr", "answer_en"):
        # An answer is read at the phone; its search vector must also stay under
        # PostgreSQL's 1 MB, which a megabyte of text overflows.
        if len(getattr(article, field)) > FAQ_ANSWER_MAX:
            raise CrmError(
                CrmErrorCode.ANSWER_TOO_LONG,
                _("La réponse dépasse {limit} caractères.").format(limit=FAQ_ANSWER_MAX),
                field=field,
            )
    if article.status == FaqStatus.PUBLISHED and not (article.question_en and article.answer_en):
        raise CrmError(
            CrmErrorCode.ENGLISH_MISSING,
            _("Un article publié doit avoir sa question et sa réponse en anglais."),
            field="question_en",
        )
    return article


def faq_article_create(
    *,
    actor: User | None,
    service_types: Iterable[ServiceType] = (),
    source_uuid: str | None = None,
    **fields: object,
) -> FaqArticle:
    unknown = set(fields) - set(FAQ_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    article = faq_article_validate(FaqArticle(source_uuid=source_uuid, **fields))
    with transaction.atomic():
        article.updated_by = _who(actor)
        article.save()
        article.service_types.set(list(service_types))
        _snapshot(article, actor)
    return article


def faq_article_update(
    *,
    actor: User | None,
    article: FaqArticle,
    service_types: Iterable[ServiceType] | None = None,
    **fields: object,
) -> FaqArticle:
    """Edit an article; the new text becomes a new version, every version is kept."""
    unknown = set(fields) - set(FAQ_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    with transaction.atomic():
        current = FaqArticle.objects.select_for_update().get(pk=article.pk)
        for name, value in fields.items():
            setattr(current, name, value)
        faq_article_validate(current)
        current.version += 1
        current.updated_by = _who(actor)
        current.save()
        if service_types is not None:
            current.service_types.set(list(service_types))
        _snapshot(current, actor)
    return FaqArticle.objects.get(pk=current.pk)


# --- Interactions --------------------------------------------------------------------------------
def interaction_record(
    *,
    actor: User | None,
    channel: str,
    summary: str,
    citizen: Citizen | None = None,
    service_request: ServiceRequest | None = None,
    faq_articles: Iterable[FaqArticle] = (),
    department: Department | None = None,
    duration_seconds: int = 0,
    resolved_at_first_contact: bool = False,
    now: datetime | None = None,
) -> Interaction:
    summary = (summary or "").strip()
    if channel not in Channel.values:
        raise CrmError(
            CrmErrorCode.INVALID_CHANNEL,
            _("Canal inconnu : {channel}.").format(channel=channel),
            field="channel",
        )
    if not summary:
        raise CrmError(CrmErrorCode.SUMMARY_REQUIRED, _("Résumez l'échange."), field="summary")
    if duration_seconds < 0:
        raise CrmError(
            CrmErrorCode.INVALID_DURATION,
            _("La durée ne peut pas être négative."),
            field="duration",
        )
    with transaction.atomic():
        citizen = _current_citizen(citizen)
        interaction = Interaction.objects.create(
            channel=channel,
            summary=summary[:2000],
            citizen=citizen,
            request=service_request,
            department=department or (service_request.department if service_request else None),
            agent=_who(actor),
            duration_seconds=duration_seconds,
            resolved_at_first_contact=resolved_at_first_contact,
            created_at=now or timezone.now(),
        )
        interaction.faq_articles.set(list(faq_articles))
    return interaction


def information_call_answer(
    *,
    actor: User | None,
    channel: str,
    summary: str,
    faq_articles: Iterable[FaqArticle],
    citizen: Citizen | None = None,
    service_type: ServiceType | None = None,
    duration_seconds: int = 0,
    now: datetime | None = None,
) -> Interaction:
    """A question answered from the information bank at first contact.

    Always an interaction resolved at first contact; when the town counts them as requests
    and an information service type is given, also a request closed at intake.
    """
    with transaction.atomic():
        service_request = None
        if service_type is not None and selectors.crm_settings().close_information_at_intake:
            service_request = request_create(
                actor=actor,
                service_type=service_type,
                channel=channel,
                description=summary,
                citizen=citizen,
                close_at_intake=True,
                now=now,
            )
        articles = list(faq_articles)
        return interaction_record(
            actor=actor,
            channel=channel,
            summary=summary,
            citizen=citizen,
            service_request=service_request,
            faq_articles=articles,
            department=service_type.department if service_type else None,
            duration_seconds=duration_seconds,
            resolved_at_first_contact=True,
            now=now,
        )


__all__ = [
    "ALLOWED_TRANSITIONS",
    "CITIZEN_FIELDS",
    "FAQ_FIELDS",
    "access_list_log_record",
    "access_log_record",
    "access_log_record_many",
    "access_log_requests_seen",
    "citizen_create",
    "citizen_merge",
    "citizen_update",
    "citizen_validate",
    "consent_record",
    "faq_article_create",
    "faq_article_update",
    "faq_article_validate",
    "information_call_answer",
    "interaction_record",
    "normalize_phone",
    "request_add_note",
    "request_assign",
    "request_cancel",
    "request_change_status",
    "request_check_sla",
    "request_create",
    "request_merge",
]


# --- API keys -----------------------------------------------------------------------------------
API_KEY_TOUCH_SECONDS = 60


def api_key_create(*, actor: User | None, name: str, scope: str) -> tuple[ApiKey, str]:
    """Create a named key for an integration and return it with the key itself, which is not
    stored (only its digest) and cannot be shown again. Raises CrmError for a blank or taken
    name or an unknown scope."""
    name = (name or "").strip()
    if not name:
        raise CrmError(CrmErrorCode.NAME_REQUIRED, _("Donnez un nom à la clé."), field="name")
    if scope not in ApiScope.values:
        raise CrmError(
            CrmErrorCode.INVALID_SCOPE,
            _("Portée inconnue : {scope} (read ou write).").format(scope=scope),
            field="scope",
        )
    key = new_api_key()
    with transaction.atomic():
        if ApiKey.objects.filter(name=name).exists():
            raise CrmError(
                CrmErrorCode.NAME_TAKEN,
                _("Une clé porte déjà le nom « {name} ».").format(name=name),
                field="name",
                status=409,
            )
        api_key = ApiKey.objects.create(
            name=name,
            prefix=key[: len("rls_") + API_KEY_PREFIX_LENGTH],
            digest=api_key_digest(key),
            scope=scope,
            created_by=_who(actor),
        )
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; it is kept (revoked) so the requests it created still name it."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record that a key was used, at most once a minute (not one write per request)."""
    now = now or timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > (
        API_KEY_TOUCH_SECONDS
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def citizen_for_account(*, user: User) -> Citizen:
    """The citizen record of a citizen's own account (created at sign-up). A new record each
    time: an existing record with the same e-mail is not linked, since nobody has proven yet
    that the account's owner is that person (staff merge the two when they are)."""
    existing = Citizen.objects.filter(account=user).first()
    if existing is not None:
        return existing
    citizen = Citizen(email=user.email, account=user, preferred_language=user.preferred_language)
    citizen_validate(citizen).save()
    return citizen


def staff_role_set(*, user: User, role: str, department: Department | None = None) -> StaffProfile:
    """Give a staff account its role (and department for department staff and supervisors).
    Raises CrmError for an unknown role, a missing department or an account that is not staff."""
    if role not in StaffRole.values:
        raise CrmError(
            CrmErrorCode.INVALID_ROLE, _("Rôle inconnu : {role}.").format(role=role), field="role"
        )
    if not user.is_staff:
        raise CrmError(
            CrmErrorCode.NOT_STAFF, _("Seul un compte du personnel reçoit un rôle."), field="user"
        )
    if role in {StaffRole.DEPARTMENT, StaffRole.SUPERVISOR} and department is None:
        raise CrmError(
            CrmErrorCode.DEPARTMENT_REQUIRED,
            _("Ce rôle s'exerce dans un service : précisez lequel."),
            field="department",
        )
    profile, _created = StaffProfile.objects.update_or_create(
        user=user,
        defaults={
            "role": role,
            "department": department
            if role in {StaffRole.DEPARTMENT, StaffRole.SUPERVISOR}
            else None,
        },
    )
    return profile
