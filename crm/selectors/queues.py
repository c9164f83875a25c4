"""Reads of the staff workspace's queues: a page of requests with their SLA standing, the same
list for an export, the filters' choices, the people one may assign, and saved views.

Who sees which requests is `request_list`'s rule (department staff and supervisors their
department's): every read here starts from it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import cast

from django.core.paginator import Page, Paginator
from django.db.models import Case, F, IntegerField, OrderBy, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import cached_property

from crm.models import (
    OPEN_STATUSES,
    Department,
    Priority,
    RequestStatus,
    SavedView,
    Sector,
    ServiceRequest,
    ServiceType,
    StaffProfile,
)
from crm.roles import Viewer
from crm.selectors.requests import RequestFilters, request_list
from crm.sla import SlaState, sla_overdue, sla_state
from tenants.accounts.models import User

__all__ = [
    "QUEUE_COUNT_CAP",
    "QUEUE_DEFAULT_SORT",
    "QUEUE_EXPORT_CHUNK",
    "QUEUE_PAGE_SIZE",
    "QUEUE_SORTS",
    "QueueChoices",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "QueueScope",
    "queue_assignees",
    "queue_choices",
    "queue_export_rows",
    "queue_page",
    "queue_requests",
    "saved_view_of",
    "saved_views_of",
]

QUEUE_PAGE_SIZE = 50
# A queue counts its requests up to this many, then says "more than": counting a backlog of
# 50,000 took longer than reading the page, and nobody pages through it (they filter).
QUEUE_COUNT_CAP = 5_000
# Rows fetched per round trip by an export, and logged per INSERT when they name citizens.
QUEUE_EXPORT_CHUNK = 2000


class QueueScope(StrEnum):
    ALL = "all"  # everything the viewer may read: the town, or their department
    MINE = "mine"  # assigned to the viewer
    UNASSIGNED = "unassigned"  # no one assigned yet


def _rank(field: str, order: list[str]) -> Case:
    return Case(
        *(When(**{field: value}, then=Value(i)) for i, value in enumerate(order)),
        default=Value(len(order)),
        output_field=IntegerField(),
    )


_STATUS_ORDER = [str(value) for value in RequestStatus.values]
_PRIORITY_ORDER = [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]

# The columns one may sort by (a whitelist: the query string never names a field), each as
# its ascending order; "-key" reverses it. The id breaks ties, so that pages never overlap.
QUEUE_SORTS: dict[str, tuple[OrderBy, ...]] = {
    "number": (F("number").asc(),),
    "type": (F("service_type__name_fr").asc(), F("id").asc()),
    "status": (_rank("status", _STATUS_ORDER).asc(), F("id").asc()),
    "priority": (_rank("priority", [str(p) for p in _PRIORITY_ORDER]).asc(), F("id").asc()),
    "sector": (F("sector__name_fr").asc(nulls_last=True), F("id").asc()),
    "channel": (F("channel").asc(), F("id").asc()),
    # Youngest first: age ascending is the newest request first.
    "age": (F("created_at").desc(), F("id").desc()),
    "due": (F("sla_due_at").asc(nulls_last=True), F("id").asc()),
    "assignee": (
        F("assignee__last_name").asc(nulls_last=True),
        F("assignee__first_name").asc(),
        F("id").asc(),
    ),
}
# Newest first: the order the created_at index serves without sorting.
QUEUE_DEFAULT_SORT = "age"


def _ordering(sort: str) -> list[OrderBy]:
    columns = QUEUE_SORTS.get(sort.lstrip("-"), QUEUE_SORTS[QUEUE_DEFAULT_SORT])
    if not sort.startswith("-"):
        return list(columns)
    return [
        OrderBy(column.expression, descending=not column.descending, nulls_last=True)
        for column in columns
    ]


@dataclass(frozen=True)
class QueueFilters:
    """A queue's narrowing and order; empty fields do not narrow. `created_to` is inclusive
    (a day of the town's time zone)."""

    scope: str = QueueScope.ALL
    statuses: frozenset[str] = OPEN_STATUSES
    service_codes: tuple[str, ...] = ()
    department_code: str = ""
    priorities: frozenset[str] = frozenset()
    sector_code: str = ""
    channel: str = ""
    overdue: bool = False
    created_from: date | None = None
    created_to: date | None = None
    sort: str = QUEUE_DEFAULT_SORT


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def queue_requests(
    *, viewer: Viewer, filters: QueueFilters, now: datetime, with_citizen: bool = False
) -> QuerySet[ServiceRequest]:
    """The requests of `viewer`'s queue, narrowed and ordered, with what a row shows (and the
    citizen when `with_citizen` and the viewer may see personal data) in one query."""
    requests = request_list(
        viewer=viewer,
        filters=RequestFilters(
            statuses=filters.statuses,
            service_codes=filters.service_codes,
            department_code=filters.department_code,
            created_after=_day_start(filters.created_from) if filters.created_from else None,
            created_before=(
                _day_start(filters.created_to + timedelta(days=1)) if filters.created_to else None
            ),
        ),
    )
    related = ["service_type", "department", "assignee", "sector"]
    if with_citizen and viewer.sees_personal_data:
        related.append("citizen")
    requests = requests.select_related(None).select_related(*related)
    if filters.scope == QueueScope.MINE:
        requests = (
            requests.filter(assignee=viewer.user) if viewer.user is not None else requests.none()
        )
    elif filters.scope == QueueScope.UNASSIGNED:
        requests = requests.filter(assignee__isnull=True)
    if filters.priorities:
        requests = requests.filter(priority__in=filters.priorities)
    if filters.sector_code:
        requests = requests.filter(sector__code=filters.sector_code)
    if filters.channel:
        requests = requests.filter(channel=filters.channel)
    if filters.overdue:
        requests = requests.filter(sla_overdue(now))
    return requests.order_by(*_ordering(filters.sort))


@dataclass(frozen=True)
class QueueRow:
    request: ServiceRequest
    sla: SlaState


def _row(service_request: ServiceRequest, now: datetime) -> QueueRow:
    return QueueRow(
        service_request,
        sla_state(
            is_open=service_request.is_open,
            due_at=service_request.sla_due_at,
            warn_at=service_request.sla_warn_at,
            breached_at=service_request.sla_breached_at,
            paused_at=service_request.sla_paused_at,
            now=now,
        ),
    )


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    page: Page
    # The statuses of the rows shown (what a bulk status change may start from).
    statuses: frozenset[str]

    @property
    def capped(self) -> bool:
        """More than QUEUE_COUNT_CAP requests: the count and the last page are not known."""
        return bool(self.page.paginator.count > QUEUE_COUNT_CAP)


class _CappedPaginator(Paginator):
    """Counts at most QUEUE_COUNT_CAP + 1 rows (`SELECT count(*) FROM (... LIMIT n)`)."""

    @cached_property
    def count(self) -> int:
        requests = cast(QuerySet[ServiceRequest], self.object_list)
        return requests.order_by()[: QUEUE_COUNT_CAP + 1].count()


# What a row of the queue's page shows, and nothing else: a request's description, attributes
# and the related rows' other columns made reading a page of 50 rows ten times slower.
_ROW_FIELDS = (
    "number",
    "status",
    "priority",
    "channel",
    "created_at",
    "sla_due_at",
    "sla_warn_at",
    "sla_breached_at",
    "sla_paused_at",
    "service_type__code",
    "service_type__name_fr",
    "service_type__name_en",
    "department__code",
    "department__name_fr",
    "department__name_en",
    "sector__code",
    "sector__name_fr",
    "sector__name_en",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
)


def queue_page(
    *, viewer: Viewer, filters: QueueFilters, page_number: str | None, now: datetime
) -> QueuePage:
    """One page of the queue in two queries (its count up to QUEUE_COUNT_CAP, its rows). A page
    number out of range or unreadable gives the nearest page. The rows carry the columns the
    page shows (`_ROW_FIELDS`); reading another one costs a query per row."""
    requests = queue_requests(viewer=viewer, filters=filters, now=now).only(*_ROW_FIELDS)
    paginator = _CappedPaginator(requests, QUEUE_PAGE_SIZE)
    page = paginator.get_page(page_number)
    rows = [_row(service_request, now) for service_request in page.object_list]
    return QueuePage(rows, page, frozenset(row.request.status for row in rows))


def queue_export_rows(
    *, viewer: Viewer, filters: QueueFilters, now: datetime
) -> Iterator[list[QueueRow]]:
    """The whole filtered queue, in chunks of QUEUE_EXPORT_CHUNK rows, read through one
    server-side cursor (memory stays flat however long the list), with the citizen when the
    viewer may see personal data."""
    requests = queue_requests(viewer=viewer, filters=filters, now=now, with_citizen=True)
    chunk: list[QueueRow] = []
    for service_request in requests.iterator(chunk_size=QUEUE_EXPORT_CHUNK):
        chunk.append(_row(service_request, now))
        if len(chunk) == QUEUE_EXPORT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class QueueChoices:
    service_types: list[ServiceType]
    departments: list[Department]  # empty for a viewer confined to their department
    sectors: list[Sector]


def queue_choices(*, viewer: Viewer) -> QueueChoices:
    """What the filters offer, in three queries (two for a viewer confined to a department)."""
    departments = (
        []
        if viewer.confined_to_department
        else list(Department.objects.only("code", "name_fr", "name_en").order_by("name_fr"))
    )
    return QueueChoices(
        service_types=list(
            ServiceType.objects.only("code", "name_fr", "name_en").order_by("name_fr", "code")
        ),
        departments=departments,
        sectors=list(Sector.objects.only("code", "name_fr", "name_en").order_by("name_fr")),
    )


def queue_assignees(*, viewer: Viewer) -> QuerySet[User]:
    """The active staff `viewer` may give requests to: everyone with a staff role, or, for a
    supervisor, the people of their department. One query."""
    profiles = StaffProfile.objects.filter(user__is_active=True, user__is_staff=True)
    if viewer.confined_to_department:
        profiles = profiles.filter(department=viewer.department)
    return User.objects.filter(pk__in=profiles.values("user_id")).order_by(
        "last_name", "first_name", "email"
    )


def saved_views_of(*, user: User) -> QuerySet[SavedView]:
    """`user`'s own saved views, by name; nobody else's."""
    return SavedView.objects.filter(user=user).order_by("name")


def saved_view_of(*, user: User, pk: int) -> SavedView | None:
    """`user`'s saved view `pk`; None when it is someone else's or does not exist."""
    return SavedView.objects.filter(user=user, pk=pk).first()
