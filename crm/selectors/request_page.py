"""Reads of the staff workspace's request page: the request with its whole timeline, its
attachments, its likely duplicates, the citizen's other requests, and whom it may be given to.
Each in a fixed number of queries whatever the number of events or attachments."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Department,
    EventKind,
    RequestAttachment,
    RequestEvent,
    ServiceRequest,
)
from crm.roles import DEPARTMENT_ROLES, Viewer
from crm.selectors.requests import (
    DuplicateCandidate,
    request_duplicate_candidates,
    request_events_visible,
    request_for,
    request_list,
)
from tenants.accounts.models import User

__all__ = [
    "CITIZEN_REQUESTS_SHOWN",
    "AssignmentChoices",
    "RequestPage",
    "TimelineEntry",
    "request_assignment_choices",
    "request_attachment_for",
    "request_page",
]

# The citizen's most recent other requests shown beside a request (the rest: the queues).
CITIZEN_REQUESTS_SHOWN = 20


@dataclass(frozen=True)
class TimelineEntry:
    """One event, with what it names: the attachment it added, the department and person it
    assigned the request to."""

    event: RequestEvent
    attachment: RequestAttachment | None = None
    department: Department | None = None
    assignee: User | None = None


@dataclass(frozen=True)
class RequestPage:
    service_request: ServiceRequest
    timeline: list[TimelineEntry]  # oldest first
    attachments: list[RequestAttachment]
    # Open requests of the same type nearby that the viewer may open (empty for a request that
    # is no longer open: it cannot be merged).
    duplicates: list[DuplicateCandidate] = field(default_factory=list)
    # Only for roles that see personal data: the request's citizen's other requests.
    citizen_requests: list[ServiceRequest] = field(default_factory=list)
    shows_citizen: bool = False


def request_page(*, viewer: Viewer, number: str) -> RequestPage:
    """The request numbered `number` as `viewer` may read it. Raises CrmError `not_found` for a
    request they may not read (another department's, another town's)."""
    service_request = request_for(viewer=viewer, number=number)
    events = request_events_visible(viewer=viewer, service_request=service_request)
    attachments = list(
        RequestAttachment.objects.filter(request=service_request).select_related("uploaded_by")
    )
    citizen_id = service_request.citizen_id if viewer.sees_personal_data else None
    return RequestPage(
        service_request=service_request,
        timeline=_timeline(events, attachments),
        attachments=attachments,
        duplicates=_duplicates(viewer, service_request),
        citizen_requests=[]
        if citizen_id is None
        else _citizen_requests(viewer, service_request, citizen_id),
        shows_citizen=citizen_id is not None,
    )


def _timeline(
    events: list[RequestEvent], attachments: list[RequestAttachment]
) -> list[TimelineEntry]:
    attachment_by_pk = {attachment.pk: attachment for attachment in attachments}
    assigned = [event.data for event in events if event.kind == EventKind.ASSIGNED]
    assignee_ids = {data.get("assignee") for data in assigned} - {None}
    codes = {data.get("department") for data in assigned} - {None}
    users = {user.pk: user for user in User.objects.filter(pk__in=assignee_ids)}
    departments = {
        department.code: department for department in Department.objects.filter(code__in=codes)
    }
    return [
        TimelineEntry(
            event=event,
            attachment=attachment_by_pk.get(event.data.get("attachment")),
            department=departments.get(event.data.get("department"))
            if event.kind == EventKind.ASSIGNED
            else None,
            assignee=users.get(event.data.get("assignee"))
            if event.kind == EventKind.ASSIGNED
            else None,
        )
        for event in events
    ]


def _duplicates(viewer: Viewer, service_request: ServiceRequest) -> list[DuplicateCandidate]:
    """The town's duplicate rule (request_duplicate_candidates: same type, open, within the
    radius, created within the window of this request's creation), narrowed to the requests
    the viewer may open."""
    if not service_request.is_open:
        return []
    candidates = request_duplicate_candidates(
        service_type=service_request.service_type,
        latitude=service_request.latitude,
        longitude=service_request.longitude,
        now=service_request.created_at,
        exclude_pk=service_request.pk,
    )
    if not candidates:
        return []
    visible = set(
        request_list(viewer=viewer)
        .filter(pk__in=[candidate.service_request.pk for candidate in candidates])
        .values_list("pk", flat=True)
    )
    return [candidate for candidate in candidates if candidate.service_request.pk in visible]


def _citizen_requests(
    viewer: Viewer, service_request: ServiceRequest, citizen_id: int
) -> list[ServiceRequest]:
    return list(
        request_list(viewer=viewer)
        .filter(citizen_id=citizen_id)
        .exclude(pk=service_request.pk)
        .order_by("-created_at", "-id")[:CITIZEN_REQUESTS_SHOWN]
    )


def request_attachment_for(*, viewer: Viewer, number: str, pk: int) -> RequestAttachment:
    """An attachment of the request numbered `number`, if `viewer` may read that request.
    Raises CrmError `not_found` otherwise."""
    service_request = request_for(viewer=viewer, number=number)
    attachment = RequestAttachment.objects.filter(request=service_request, pk=pk).first()
    if attachment is None:
        raise CrmError(
            CrmErrorCode.NOT_FOUND, _("Cette pièce jointe n'existe pas."), status=404, field="file"
        )
    return attachment


@dataclass(frozen=True)
class AssignmentChoices:
    departments: list[Department]
    staff: list[User]

    @property
    def offered(self) -> bool:
        return bool(self.departments or self.staff)


NO_CHOICES = AssignmentChoices([], [])


def request_assignment_choices(*, viewer: Viewer) -> AssignmentChoices:
    """Whom `viewer` may give a request to: every active department and staff member for
    agents and administrators; a supervisor, their own department and its staff
    (request_dispatch refuses another department); nothing for department staff."""
    if not viewer.dispatches_requests:
        return NO_CHOICES
    departments = Department.objects.filter(is_active=True)
    staff = User.objects.filter(is_active=True, is_staff=True).filter(
        Q(staff_profile__isnull=False) | Q(is_superuser=True)
    )
    if viewer.role in DEPARTMENT_ROLES:
        if viewer.department is None:
            return NO_CHOICES
        departments = departments.filter(pk=viewer.department.pk)
        staff = staff.filter(staff_profile__department=viewer.department)
    return AssignmentChoices(
        departments=list(departments.order_by("name_fr")),
        staff=list(staff.order_by("last_name", "first_name", "email")),
    )
