"""Figures of the supervisors' dashboards and of the monthly reports: volumes, backlog and its
age, SLA compliance, median time to resolution, first-contact resolution; each for a week or a
month of the town's calendar, with the period before it.

Every figure is aggregated by PostgreSQL, from the requests and interactions the viewer may read
(`request_list`, `interaction_list`: a supervisor's department, the whole town for an
administrator), in a fixed number of queries whatever the volume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Aggregate,
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Channel, Department, SatisfactionResponse
from crm.models.catalog import Bilingual
from crm.roles import DEPARTMENT_ROLES, Viewer
from crm.selectors.interactions import interaction_list
from crm.selectors.requests import RequestFilters, request_list
from crm.selectors.town import working_calendar

__all__ = [
    "AGE_BUCKETS",
    "Compared",
    "CountRow",
    "DashboardFigures",
    "Period",
    "PeriodKind",
    "Rate",
    "RateRow",
    "Satisfaction",
    "dashboard_department",
    "dashboard_departments",
    "dashboard_figures",
    "dashboard_period",
]


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month of the town's time zone: [start, end)."""

    kind: PeriodKind
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def previous(self) -> Period:
        return _period_of(self.kind, self.first_day - timedelta(days=1), self.start.tzinfo)

    def following(self) -> Period:
        return _period_of(self.kind, self.end.date(), self.start.tzinfo)


def _period_of(kind: PeriodKind, day: date, tz: Any) -> Period:
    if kind == PeriodKind.WEEK:
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return Period(
        kind=kind,
        start=datetime.combine(first, time(0), tzinfo=tz),
        end=datetime.combine(after, time(0), tzinfo=tz),
    )


def dashboard_period(*, kind: PeriodKind, day: date, tz: ZoneInfo | None = None) -> Period:
    """The week or month holding `day`, in the town's time zone (its business calendar's)."""
    return _period_of(kind, day, tz or working_calendar().tz)


@dataclass(frozen=True)
class Compared:
    """A figure in the period and in the one before (None: nothing to measure)."""

    current: Any
    previous: Any


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    @property
    def share(self) -> float | None:
        """Between 0 and 1; None when there is nothing to divide."""
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Satisfaction:
    """The survey answers of a period: how many, and their average score out of 5."""

    answers: int
    average: float | None


@dataclass(frozen=True)
class CountRow:
    key: str
    label: str
    current: int
    previous: int


@dataclass(frozen=True)
class RateRow:
    key: str
    label: str
    current: Rate
    previous: Rate


# Age of an open request at the end of a period: (key, label, from days, to days excluded).
AGE_BUCKETS: tuple[tuple[str, Promise, int, int | None], ...] = (
    ("0-2", gettext_lazy("moins de 2 jours"), 0, 2),
    ("2-7", gettext_lazy("2 à 7 jours"), 2, 7),
    ("7-30", gettext_lazy("7 à 30 jours"), 7, 30),
    ("30+", gettext_lazy("30 jours et plus"), 30, None),
)


@dataclass(frozen=True)
class DashboardFigures:
    period: Period
    previous_period: Period
    department: Department | None
    created: Compared
    by_service_type: list[CountRow]
    by_channel: list[CountRow]
    by_department: list[CountRow]
    backlog: Compared
    backlog_age: list[CountRow]
    resolved: Compared
    sla_compliance: Compared  # of Rate: resolved by their due time / resolved with one
    median_resolution: Compared  # of timedelta | None
    resolution_by_department: list[RateRow]  # SLA compliance by department
    first_contact: Compared  # of Rate
    first_contact_by_agent: list[RateRow]
    first_contact_by_channel: list[RateRow]
    first_contact_by_department: list[RateRow]
    satisfaction: Compared  # of Satisfaction: the citizens' survey answers of the period


class Median(Aggregate):
    """PostgreSQL's `percentile_cont(0.5)`, an ordered-set aggregate Django does not ship."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _localized(fr: str | None, en: str | None) -> str:
    return Bilingual.localized(SimpleNamespace(name_fr=fr or "", name_en=en or ""), "name")  # type: ignore[arg-type]


def dashboard_departments(*, viewer: Viewer) -> list[Department]:
    """The departments whose figures `viewer` reads: their own for department roles, every
    department for the others (the scope of `request_list`). One query."""
    departments = Department.objects.order_by("name_fr")
    if viewer.role in DEPARTMENT_ROLES:
        departments = departments.filter(pk__in=[viewer.department.pk] if viewer.department else [])
    return list(departments)


def dashboard_department(*, viewer: Viewer, code: str) -> Department | None:
    """The department coded `code` if `viewer` reads its figures, else None."""
    return next((d for d in dashboard_departments(viewer=viewer) if d.code == code), None)


def dashboard_figures(
    *,
    viewer: Viewer,
    period: Period,
    department: Department | None = None,
    now: datetime | None = None,
) -> DashboardFigures:
    """The figures of `period` and of the period before, from what `viewer` may read (narrowed
    to `department` when given). Seven queries, whatever the number of requests.

    The backlog is counted at the end of each period (now, for the period under way): requests
    created before then and neither resolved nor closed by then. The SLA compliance and the
    median time to resolution cover the requests resolved in the period, except those settled
    at first contact (counted by the first-contact rate)."""
    now = now or timezone.now()
    previous = period.previous()
    window = Q(created_at__gte=previous.start, created_at__lt=period.end)
    current_q, previous_q = Q(created_at__gte=period.start), Q(created_at__lt=period.start)
    filters = RequestFilters(department_code=department.code if department else "")
    requests = request_list(viewer=viewer, filters=filters).order_by()
    interactions = interaction_list(viewer=viewer).order_by()
    if department is not None:
        interactions = interactions.filter(department=department)

    # One query grouped by type, channel and department (a few hundred groups at most), summed
    # here along each.
    groups = list(
        requests.filter(window)
        .values(
            "service_type__code",
            "service_type__name_fr",
            "service_type__name_en",
            "channel",
            "department__code",
            "department__name_fr",
            "department__name_en",
        )
        .annotate(current=Count("pk", filter=current_q), previous=Count("pk", filter=previous_q))
    )
    channel_labels = dict(Channel.choices)
    by_type = _summed(
        groups,
        lambda row: row["service_type__code"],
        lambda row: _localized(row["service_type__name_fr"], row["service_type__name_en"]),
    )
    by_channel = _summed(
        groups,
        lambda row: row["channel"],
        lambda row: str(channel_labels.get(row["channel"], row["channel"])),
    )
    by_department = _summed(
        groups,
        lambda row: row["department__code"],
        lambda row: _localized(row["department__name_fr"], row["department__name_en"]),
    )

    backlog, backlog_age = _backlog(requests, ends=(min(period.end, now), period.start))
    resolution_rows, resolution_total = _resolution(requests, period, previous)
    by_agent, by_channel_fcr, by_department_fcr = _first_contact(interactions, period, previous)
    first_contact = Compared(
        Rate(
            sum(r.current.part for r in by_channel_fcr),
            sum(r.current.whole for r in by_channel_fcr),
        ),
        Rate(
            sum(r.previous.part for r in by_channel_fcr),
            sum(r.previous.whole for r in by_channel_fcr),
        ),
    )
    return DashboardFigures(
        period=period,
        previous_period=previous,
        department=department,
        created=Compared(sum(r.current for r in by_channel), sum(r.previous for r in by_channel)),
        by_service_type=_ranked(by_type),
        by_channel=_ranked(by_channel),
        by_department=_ranked(by_department),
        backlog=backlog,
        backlog_age=backlog_age,
        resolved=Compared(
            resolution_total["resolved_current"], resolution_total["resolved_previous"]
        ),
        sla_compliance=Compared(
            Rate(resolution_total["met_current"], resolution_total["due_current"]),
            Rate(resolution_total["met_previous"], resolution_total["due_previous"]),
        ),
        median_resolution=Compared(
            resolution_total["median_current"], resolution_total["median_previous"]
        ),
        resolution_by_department=resolution_rows,
        first_contact=first_contact,
        first_contact_by_agent=by_agent,
        first_contact_by_channel=by_channel_fcr,
        first_contact_by_department=by_department_fcr,
        satisfaction=_satisfaction(requests, period, previous),
    )


def _summed(
    groups: list[dict[str, Any]],
    key_of: Callable[[dict[str, Any]], Any],
    label_of: Callable[[dict[str, Any]], str],
) -> list[CountRow]:
    """The grouped counts summed along one dimension (its key, and its label)."""
    sums: dict[Any, list[int]] = {}
    labels: dict[Any, str] = {}
    for row in groups:
        key = key_of(row)
        if key not in sums:
            sums[key], labels[key] = [0, 0], label_of(row)
        sums[key][0] += row["current"]
        sums[key][1] += row["previous"]
    return [
        CountRow(key, labels[key], current, previous) for key, (current, previous) in sums.items()
    ]


def _satisfaction(requests: QuerySet, period: Period, previous: Period) -> Compared:
    """The survey answers given in each period about the requests `requests` holds. One
    query."""
    current_q, previous_q = Q(created_at__gte=period.start), Q(created_at__lt=period.start)
    found = SatisfactionResponse.objects.filter(
        request__in=requests.values("pk"),
        created_at__gte=previous.start,
        created_at__lt=period.end,
    ).aggregate(
        answers_current=Count("pk", filter=current_q),
        average_current=Avg("score", filter=current_q),
        answers_previous=Count("pk", filter=previous_q),
        average_previous=Avg("score", filter=previous_q),
    )
    return Compared(
        Satisfaction(found["answers_current"], found["average_current"]),
        Satisfaction(found["answers_previous"], found["average_previous"]),
    )


def _ranked(rows: list[CountRow]) -> list[CountRow]:
    return sorted(rows, key=lambda row: (-row.current, -row.previous, row.label))


def _open_at(moment: datetime) -> Q:
    return Q(created_at__lt=moment) & (Q(finished_at__isnull=True) | Q(finished_at__gte=moment))


def _age_bucket(moment: datetime, *, unfinished: bool = False) -> Case:
    """The age bucket of a request open at `moment` (NULL when it was not open then). Whether it
    was open is evaluated once, then its age against each bucket's upper bound in turn: a
    backlog of 50,000 rows spent most of its time re-evaluating these conditions. For requests
    never `unfinished`, open means created before `moment`: the expression then reads only the
    creation time, which the unfinished requests' index holds (an index-only scan)."""
    *younger, (oldest, _label, _low, _high) = AGE_BUCKETS
    return Case(
        When(
            Q(created_at__lt=moment) if unfinished else _open_at(moment),
            then=Case(
                *[
                    When(created_at__gt=moment - timedelta(days=high), then=Value(key))
                    for key, _label, _low, high in younger
                    if high is not None
                ],
                default=Value(oldest),
                output_field=CharField(),
            ),
        ),
        default=Value(None),
        output_field=CharField(),
    )


def _backlog(
    requests: QuerySet, *, ends: tuple[datetime, datetime]
) -> tuple[Compared, list[CountRow]]:
    """Open requests at the end of the period and at the end of the one before, by age. Two
    queries, over two disjoint sets whose union holds every request open at either moment: the
    requests never finished (counted from their own narrow index), and those finished since the
    start of the period. Rows are grouped by their two buckets, each row's conditions evaluated
    once."""
    current_end, previous_end = ends
    requests = requests.annotate(
        finished_at=Coalesce("resolved_at", "closed_at", output_field=DateTimeField())
    ).filter(created_at__lt=current_end)
    current: dict[str, int] = {}
    previous: dict[str, int] = {}
    for part, unfinished in (
        (requests.filter(resolved_at__isnull=True, closed_at__isnull=True), True),
        (requests.filter(finished_at__gte=previous_end), False),
    ):
        grouped = (
            part.annotate(
                current=_age_bucket(current_end, unfinished=unfinished),
                previous=_age_bucket(previous_end, unfinished=unfinished),
            )
            .values("current", "previous")
            .annotate(count=Count("*"))  # COUNT(*): the covering indexes answer alone
            .order_by()
        )
        for row in grouped:
            if row["current"] is not None:
                current[row["current"]] = current.get(row["current"], 0) + row["count"]
            if row["previous"] is not None:
                previous[row["previous"]] = previous.get(row["previous"], 0) + row["count"]
    return (
        Compared(sum(current.values()), sum(previous.values())),
        [
            CountRow(key, str(label), current.get(key, 0), previous.get(key, 0))
            for key, label, _low, _high in AGE_BUCKETS
        ],
    )


def _resolution(
    requests: QuerySet, period: Period, previous: Period
) -> tuple[list[RateRow], dict[str, Any]]:
    """Requests resolved in each period (not at first contact), within their due time, and the
    median time they took: by department, then for all. Two queries."""
    resolved = requests.filter(
        resolved_at__gte=previous.start,
        resolved_at__lt=period.end,
        first_contact_resolution=False,
    )
    took = F("resolved_at") - F("created_at")
    aggregates: dict[str, Any] = {}
    for which, in_period in (
        ("current", Q(resolved_at__gte=period.start)),
        ("previous", Q(resolved_at__lt=period.start)),
    ):
        aggregates[f"resolved_{which}"] = Count("pk", filter=in_period)
        aggregates[f"due_{which}"] = Count("pk", filter=in_period & Q(sla_due_at__isnull=False))
        aggregates[f"met_{which}"] = Count(
            "pk", filter=in_period & Q(resolved_at__lte=F("sla_due_at"))
        )
    by_department = [
        RateRow(
            row["department__code"],
            _localized(row["department__name_fr"], row["department__name_en"]),
            Rate(row["met_current"], row["due_current"]),
            Rate(row["met_previous"], row["due_previous"]),
        )
        for row in resolved.values("department__code", "department__name_fr", "department__name_en")
        .annotate(**aggregates)
        .order_by("department__name_fr")
    ]
    total = resolved.aggregate(
        **aggregates,
        median_current=Median(took, filter=Q(resolved_at__gte=period.start)),
        median_previous=Median(took, filter=Q(resolved_at__lt=period.start)),
    )
    return by_department, total


def _first_contact(
    interactions: QuerySet, period: Period, previous: Period
) -> tuple[list[RateRow], list[RateRow], list[RateRow]]:
    """First-contact resolution of the interactions of each period, by agent, by channel and by
    department. One query, grouped by all three (a few hundred groups at most: agents ×
    channels × departments), summed here along each."""
    window = interactions.filter(created_at__gte=previous.start, created_at__lt=period.end)
    current_q, previous_q = Q(created_at__gte=period.start), Q(created_at__lt=period.start)
    settled = Q(resolved_at_first_contact=True)
    groups = list(
        window.values(
            "agent_id",
            "agent__first_name",
            "agent__last_name",
            "agent__email",
            "channel",
            "department__code",
            "department__name_fr",
            "department__name_en",
        ).annotate(
            all_current=Count("pk", filter=current_q),
            settled_current=Count("pk", filter=current_q & settled),
            all_previous=Count("pk", filter=previous_q),
            settled_previous=Count("pk", filter=previous_q & settled),
        )
    )
    channel_labels = dict(Channel.choices)

    def along(key_of: Any, label_of: Any) -> list[RateRow]:
        sums: dict[str, list[int]] = {}
        labels: dict[str, str] = {}
        for row in groups:
            key = key_of(row)
            if key not in sums:
                sums[key], labels[key] = [0, 0, 0, 0], label_of(row)
            totals = sums[key]
            totals[0] += row["settled_current"]
            totals[1] += row["all_current"]
            totals[2] += row["settled_previous"]
            totals[3] += row["all_previous"]
        found = [
            RateRow(key, labels[key], Rate(t[0], t[1]), Rate(t[2], t[3])) for key, t in sums.items()
        ]
        return sorted(found, key=lambda r: (-r.current.whole, -r.previous.whole, r.label))

    by_agent = along(
        lambda row: str(row["agent_id"] or ""),
        lambda row: (
            " ".join(filter(None, [row["agent__first_name"], row["agent__last_name"]]))
            or row["agent__email"]
            or _("(sans agent)")
        ),
    )
    by_channel = along(
        lambda row: row["channel"],
        lambda row: str(channel_labels.get(row["channel"], row["channel"])),
    )
    by_department = along(
        lambda row: row["department__code"] or "",
        lambda row: (
            _localized(row["department__name_fr"], row["department__name_en"])
            if row["department__code"]
            else _("(sans service)")
        ),
    )
    return by_agent, by_channel, by_department
