"""The dashboards' figures on a small known dataset (tests/crm/desk/dashboard_data.py): exact
counts, median, SLA compliance, first-contact rates, the period before, a supervisor's scope,
and a fixed number of queries whatever the volume."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import ServiceRequest
from crm.roles import Viewer
from crm.selectors import (
    AGE_BUCKETS,
    Compared,
    CountRow,
    PeriodKind,
    Rate,
    RateRow,
    dashboard_figures,
    dashboard_period,
)
from tenants.models import Municipality
from tests.crm.desk.dashboard_data import AFTER, TZ, build_known_month
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOVEMBER = dashboard_period(kind=PeriodKind.MONTH, day=date(2025, 11, 14), tz=TZ)


def _counts(rows: list[CountRow]) -> list[tuple[str, int, int]]:
    return [(row.key, row.current, row.previous) for row in rows]


def _rates(rows: list[RateRow]) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    return [
        (row.label, (row.current.part, row.current.whole), (row.previous.part, row.previous.whole))
        for row in rows
    ]


def test_periods_are_weeks_from_monday_and_calendar_months_of_the_town():
    week = dashboard_period(kind=PeriodKind.WEEK, day=date(2025, 11, 5), tz=TZ)

    assert (week.start, week.end) == (
        datetime(2025, 11, 3, tzinfo=TZ),
        datetime(2025, 11, 10, tzinfo=TZ),
    )
    assert week.previous().start == datetime(2025, 10, 27, tzinfo=TZ)
    assert (NOVEMBER.start, NOVEMBER.end) == (
        datetime(2025, 11, 1, tzinfo=TZ),
        datetime(2025, 12, 1, tzinfo=TZ),
    )
    assert NOVEMBER.previous().start == datetime(2025, 10, 1, tzinfo=TZ)
    assert NOVEMBER.start.utcoffset() == timedelta(hours=-4)  # still daylight time on 1 Nov.
    assert NOVEMBER.end.utcoffset() == timedelta(hours=-5)


def test_a_supervisor_gets_the_exact_figures_of_their_department_only(laval: Municipality):
    with schema_context(laval.schema_name):
        known = build_known_month()
        supervisor = Viewer("supervisor", department=known.voirie)

        figures = dashboard_figures(viewer=supervisor, period=NOVEMBER, now=AFTER)

    assert figures.previous_period.first_day == date(2025, 10, 1)
    assert figures.created == Compared(5, 2)
    assert _counts(figures.by_service_type) == [
        ("nid-de-poule", 3, 1),
        ("panneau", 1, 1),
        ("info-voirie", 1, 0),
    ]
    assert _counts(figures.by_channel) == [
        ("phone", 3, 1),
        ("counter", 1, 0),
        ("web", 1, 0),
        ("email", 0, 1),
    ]
    assert _counts(figures.by_department) == [("voirie", 5, 2)]
    assert figures.backlog == Compared(1, 1)
    assert _counts(figures.backlog_age) == [
        ("0-2", 0, 1),
        ("2-7", 0, 0),
        ("7-30", 1, 0),
        ("30+", 0, 0),
    ]
    assert figures.resolved == Compared(3, 1)
    assert figures.sla_compliance == Compared(Rate(2, 3), Rate(1, 1))
    assert figures.median_resolution == Compared(timedelta(hours=60), timedelta(hours=26))
    assert figures.first_contact == Compared(Rate(2, 4), Rate(1, 1))
    assert _rates(figures.first_contact_by_agent) == [
        ("Xavier Roy", (2, 3), (1, 1)),
        ("Yasmine Côté", (0, 1), (0, 0)),
    ]
    assert _rates(figures.first_contact_by_channel) == [
        ("Téléphone (311)", (1, 3), (1, 1)),
        ("Comptoir", (1, 1), (0, 0)),
    ]
    assert _rates(figures.first_contact_by_department) == [("Voirie", (2, 4), (1, 1))]


def test_an_administrator_gets_the_whole_town(laval: Municipality):
    with schema_context(laval.schema_name):
        build_known_month()
        figures = dashboard_figures(viewer=Viewer("administrator"), period=NOVEMBER, now=AFTER)

    assert figures.created == Compared(6, 2)
    assert _counts(figures.by_department) == [("voirie", 5, 2), ("parcs", 1, 0)]
    assert figures.resolved == Compared(4, 1)
    # 2 h, 24 h, 60 h and 72 h: the median is halfway between 24 h and 60 h.
    assert figures.median_resolution == Compared(timedelta(hours=42), timedelta(hours=26))
    assert figures.sla_compliance == Compared(Rate(3, 4), Rate(1, 1))
    assert _rates(figures.resolution_by_department) == [
        ("Parcs", (1, 1), (0, 0)),
        ("Voirie", (2, 3), (1, 1)),
    ]
    assert figures.first_contact == Compared(Rate(3, 5), Rate(1, 1))
    assert [row.label for row in figures.first_contact_by_agent] == [
        "Xavier Roy",
        "Yasmine Côté",
        "Zoé Morin",
    ]


def test_a_department_narrows_an_administrators_figures(laval: Municipality):
    with schema_context(laval.schema_name):
        known = build_known_month()
        figures = dashboard_figures(
            viewer=Viewer("administrator"), period=NOVEMBER, department=known.parcs, now=AFTER
        )

    assert figures.created == Compared(1, 0)
    assert figures.median_resolution == Compared(timedelta(hours=2), None)
    assert figures.first_contact == Compared(Rate(1, 1), Rate(0, 0))
    assert figures.backlog == Compared(0, 0)


def test_a_week_is_compared_with_the_week_before(laval: Municipality):
    with schema_context(laval.schema_name):
        known = build_known_month()
        week = dashboard_period(kind=PeriodKind.WEEK, day=date(2025, 11, 12), tz=TZ)
        figures = dashboard_figures(
            viewer=Viewer("supervisor", department=known.voirie), period=week, now=AFTER
        )

    # 10-16 Nov.: r2 received (web) and resolved late; 3-9 Nov.: r1 and the information call.
    assert figures.created == Compared(1, 2)
    assert figures.sla_compliance == Compared(Rate(0, 1), Rate(1, 1))
    assert figures.first_contact == Compared(Rate(0, 1), Rate(1, 1))


def test_another_town_sees_none_of_the_figures(laval: Municipality, levis: Municipality):
    with schema_context(laval.schema_name):
        build_known_month()
    with schema_context(levis.schema_name):
        figures = dashboard_figures(viewer=Viewer("administrator"), period=NOVEMBER, now=AFTER)

    assert figures.created == Compared(0, 0)
    assert figures.by_service_type == figures.by_department == []
    assert figures.backlog == Compared(0, 0)
    assert figures.first_contact == Compared(Rate(0, 0), Rate(0, 0))
    assert figures.first_contact_by_agent == []


def _build(count: int) -> None:
    """`count` requests of as many types and departments, and as many agents' interactions."""
    from crm.services import interaction_record

    for index in range(count):
        department = DepartmentFactory()
        request = ServiceRequestFactory(
            service_type__department=department,
            channel=["phone", "web", "app", "email", "counter"][index % 5],
            now=datetime(2025, 11, 1 + index % 28, 10, tzinfo=TZ),
            status="resolved" if index % 2 else None,
        )
        interaction_record(
            actor=UserFactory(is_staff=True),
            channel="phone",
            summary="Appel.",
            service_request=request,
            resolved_at_first_contact=bool(index % 3),
            now=datetime(2025, 11, 1 + index % 28, 11, tzinfo=TZ),
        )


@pytest.mark.parametrize("viewer", [Viewer("administrator"), None])
def test_the_figures_take_seven_queries_whatever_the_volume(laval: Municipality, viewer):
    counts = []
    with schema_context(laval.schema_name):
        for batch in (5, 45):  # 5 requests, then 50
            _build(batch)
            who = viewer or Viewer("supervisor", department=DepartmentFactory())
            with CaptureQueriesContext(connection) as queries:
                figures = dashboard_figures(viewer=who, period=NOVEMBER, now=AFTER)
            counts.append(len(queries))
        if viewer is not None:
            assert figures.created == Compared(50, 0)
            assert len(figures.by_department) == len(figures.first_contact_by_agent) == 50

    assert counts == [7, 7]


def test_the_backlog_by_age_equals_a_count_of_every_request_open_at_each_end(
    laval: Municipality,
):
    """The backlog is read from two disjoint sets (never finished; finished since the period
    began): their counts must equal a plain count, request by request, of those open at each
    end, whatever mix of creation, resolution and closing times."""
    rng = random.Random(20251205)  # noqa: S311  (test data, not secrets)
    current_end, previous_end = NOVEMBER.end, NOVEMBER.start  # November is over at AFTER
    start = previous_end - timedelta(days=60)
    moments = []
    with schema_context(laval.schema_name):
        service_type = ServiceTypeFactory()
        for _ in range(60):
            created = start + timedelta(hours=rng.randrange(0, 24 * 100))
            resolved = closed = None
            if rng.random() < 0.6:
                resolved = created + timedelta(hours=rng.randrange(1, 24 * 40))
                if rng.random() < 0.5:
                    closed = resolved + timedelta(hours=rng.randrange(0, 24 * 5))
            elif rng.random() < 0.3:
                closed = created + timedelta(hours=rng.randrange(1, 24 * 40))
            request = ServiceRequestFactory(service_type=service_type, now=created)
            ServiceRequest.objects.filter(pk=request.pk).update(
                resolved_at=resolved, closed_at=closed
            )
            moments.append((created, resolved or closed))
        figures = dashboard_figures(viewer=Viewer("administrator"), period=NOVEMBER, now=AFTER)

    def by_age(moment: datetime) -> dict[str, int]:
        counts = {key: 0 for key, _label, _low, _high in AGE_BUCKETS}
        for created, finished in moments:
            if created < moment and (finished is None or finished >= moment):
                age = moment - created
                key = next(
                    key
                    for key, _label, low, high in AGE_BUCKETS
                    if high is None or age < timedelta(days=high)
                )
                counts[key] += 1
        return counts

    expected_current, expected_previous = by_age(current_end), by_age(previous_end)
    assert _counts(figures.backlog_age) == [
        (key, expected_current[key], expected_previous[key]) for key in expected_current
    ]
    assert figures.backlog == Compared(
        sum(expected_current.values()), sum(expected_previous.values())
    )
    assert sum(expected_previous.values()) > 0 < sum(expected_current.values())
