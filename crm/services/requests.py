"""Writes of service requests: intake, workflow, assignment, notes, merges, SLA checks."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import selectors
from crm.attributes import clean_answers
from crm.errors import CrmError, CrmErrorCode
from crm.location import coordinate_parse
from crm.models import (
    Channel,
    Citizen,
    Department,
    EventKind,
    Priority,
    RequestEvent,
    RequestStatus,
    Sector,
    ServiceKind,
    ServiceRequest,
    ServiceType,
    Visibility,
)
from crm.numbering import request_number, request_numbers_reserve
from crm.roles import CITIZEN, DEPARTMENT_ROLES, KEY, Viewer
from crm.selectors.town_config import town_config
from crm.services.citizens import IntakeContact, citizen_for_contact
from crm.services.common import author_of, citizen_standing_for
from crm.services.notifications import request_event_notify
from crm.sla import sla_deadlines
from tenants.accounts.models import User

__all__ = [
    "ALLOWED_TRANSITIONS",
    "DESCRIPTION_MAX",
    "MEDIA_URL_MAX",
    "request_add_note",
    "request_assign",
    "request_cancel",
    "request_change_status",
    "request_check_sla",
    "request_create",
    "request_dispatch",
    "request_intake",
    "request_may_cancel",
    "request_merge",
    "request_status_targets",
]

DESCRIPTION_MAX = 4000
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
# Reached by their own actions (a reason, a parent request), never by a plain status change.
DEDICATED_STATUSES = frozenset({S.CANCELLED, S.DUPLICATE})


def request_status_targets(status: str) -> list[str]:
    """The statuses request_change_status accepts for a request in `status`, in the workflow's
    order (cancelling and merging have their own actions: request_cancel, request_merge)."""
    allowed = ALLOWED_TRANSITIONS.get(status, frozenset()) - DEDICATED_STATUSES
    return [target for target in S.values if target in allowed]


def request_may_cancel(status: str) -> bool:
    """Whether request_cancel accepts a request in `status`."""
    return S.CANCELLED in ALLOWED_TRANSITIONS.get(status, frozenset())


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
    notify: bool = True,
) -> RequestEvent:
    """A timeline event; a public one is also told to the citizen (written to the outbox in
    this transaction) unless `notify` is false."""
    event = RequestEvent.objects.create(
        created_at=at or timezone.now(),
        request=service_request,
        kind=kind,
        actor=author_of(actor),
        visibility=visibility,
        message=message,
        from_status=from_status,
        to_status=to_status,
        data=dict(data or {}),
    )
    if notify and visibility == Visibility.PUBLIC:
        request_event_notify(event=event)
    return event


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
        lat = coordinate_parse(latitude, field="latitude")
        lon = coordinate_parse(longitude, field="longitude")
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
    config = town_config()  # the process's copy of the catalog and calendar: one query
    if sector is None and lat is not None and lon is not None:
        sector = config.sector_at(latitude=lat, longitude=lon)
    department = config.routed_department(service_type=service_type, sector=sector)
    calendar = config.calendar
    sla_due_at, sla_warn_at = sla_deadlines(
        service_type=service_type,
        start=now,
        calendar=calendar,
        warning_ratio=config.sla_warning_ratio,
    )

    with transaction.atomic():
        citizen = citizen_standing_for(citizen)
        local_year = now.astimezone(calendar.tz).year  # the town's year, not the server's
        service_request = ServiceRequest(
            number=request_number(local_year, request_numbers_reserve(year=local_year)),
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
            created_by=author_of(actor),
            sla_due_at=sla_due_at,
            sla_warn_at=sla_warn_at,
            created_at=now,
        )
        service_request.save()
        created = _event(
            service_request,
            EventKind.CREATED,
            actor=actor,
            visibility=Visibility.PUBLIC,
            to_status=S.NEW,
            data={"channel": channel, "department": department.code, **(intake_data or {})},
            at=now,
            # A question answered at first contact: the person already has the answer.
            notify=not close_at_intake,
        )
        service_request.written_events = [created]
        if close_at_intake:
            service_request.status = S.CLOSED
            service_request.first_contact_resolution = True
            service_request.resolved_at = service_request.closed_at = now
            service_request.save(
                update_fields=["status", "first_contact_resolution", "resolved_at", "closed_at"]
            )
            closed = _event(
                service_request,
                EventKind.STATUS_CHANGED,
                actor=actor,
                visibility=Visibility.PUBLIC,
                from_status=S.NEW,
                to_status=S.CLOSED,
                message=_("Répondue au premier contact."),
                at=now,
                notify=False,
            )
            service_request.written_events.append(closed)
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
    if status in DEDICATED_STATUSES:
        raise CrmError(
            CrmErrorCode.USE_DEDICATED_ACTION,
            _("Utilisez l'annulation ou la fusion pour ce statut."),
            field="status",
        )
    with transaction.atomic():
        current = _locked(service_request)
        if status not in request_status_targets(current.status):
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
        if not request_may_cancel(current.status):
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


def request_intake(
    *,
    viewer: Viewer,
    service_type: ServiceType,
    description: str = "",
    address: str = "",
    latitude: object = None,
    longitude: object = None,
    attributes: Mapping[str, object] | None = None,
    media_url: str = "",
    channel: str | None = None,
    citizen_id: int | None = None,
    contact: IntakeContact | None = None,
    priority: str | None = None,
    intake_data: Mapping[str, object] | None = None,
) -> ServiceRequest:
    """A request filed by `viewer`, whichever interface it came through (REST, Open311, the
    desk, the portal), in one transaction with the citizen record it may create.

    A citizen files their own, from the app. An API key files as an integration (channel
    `api`, the key's name as detail), for the citizen its `contact` names: found by e-mail,
    else by phone, else created. Staff say the `channel` (phone by default), name an existing
    citizen by `citizen_id` or a caller by `contact` (found or created the same way), and set
    the `priority`; others get the type's. An anonymous visitor's `contact` (the portal) gets a
    new record, never an existing one.
    Raises CrmError as request_create does, `not_found` for an unknown citizen, and
    `invalid_phone` for a contact phone without 10 digits."""
    detail = ""
    # One transaction with the citizen record a contact may create; without a contact nothing
    # is written before request_create, whose own transaction is then the outermost (no
    # savepoint: two round trips fewer on the API's hot path).
    with transaction.atomic() if contact is not None else nullcontext():
        if viewer.role == CITIZEN:
            citizen = viewer.citizen
        elif viewer.role == KEY:
            assert viewer.api_key is not None  # noqa: S101  (role KEY carries its key)
            detail = viewer.api_key.name
            citizen = citizen_for_contact(contact=contact) if contact is not None else None
        elif citizen_id is not None:
            citizen = selectors.citizen_existing(pk=citizen_id)
        elif contact is not None:
            # Staff taking a caller's details find the caller's record by e-mail or phone; an
            # anonymous visitor's typed details get a record of their own, never someone
            # else's (staff merge the two when they are the same person).
            citizen = citizen_for_contact(contact=contact, match=viewer.is_staff)
        else:
            citizen = None
        return request_create(
            actor=viewer.user,
            service_type=service_type,
            channel=viewer.intake_channel(channel),
            channel_detail=detail,
            description=description,
            citizen=citizen,
            address=address,
            latitude=latitude,
            longitude=longitude,
            attributes=attributes,
            priority=priority if viewer.sets_priority else None,
            media_url=media_url,
            intake_data=intake_data,
        )


def request_dispatch(
    *,
    viewer: Viewer,
    service_request: ServiceRequest,
    department_code: str = "",
    assignee_email: str = "",
) -> ServiceRequest:
    """Give a request to the department `department_code` and/or the staff member
    `assignee_email`, as `viewer`: a supervisor dispatches within their own department.
    Raises CrmError `not_found` (unknown department), `other_department`, `unknown_assignee`,
    and as request_assign does."""
    department = None
    if department_code:
        department = selectors.department_by_code(code=department_code)
        if department is None:
            raise CrmError(
                CrmErrorCode.NOT_FOUND,
                _("Le service « {code} » n'existe pas.").format(code=department_code[:40]),
                field="department",
                status=404,
            )
        if viewer.role in DEPARTMENT_ROLES and department != viewer.department:
            raise CrmError(
                CrmErrorCode.OTHER_DEPARTMENT,
                _("Un superviseur assigne dans son propre service."),
                field="department",
                status=403,
            )
    assignee = None
    if assignee_email:
        assignee = selectors.user_by_email(email=assignee_email)
        if assignee is None:
            raise CrmError(
                CrmErrorCode.UNKNOWN_ASSIGNEE,
                _("Aucun membre du personnel n'a l'adresse {email}.").format(email=assignee_email),
                field="assignee",
            )
    return request_assign(
        actor=viewer.user,
        service_request=service_request,
        department=department,
        assignee=assignee,
    )
