"""The queues page: each role's queue, the tabs, filters, sort and pages, SLA badges, bad
filters, another town, and a number of queries that does not grow with the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import Department, ServiceRequest
from tenants.models import Municipality
from tests.factories import (
    DepartmentFactory,
    SectorFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
)

pytestmark = pytest.mark.django_db

QUEUE = "/personnel/files/"


def _department(town: Municipality, code: str) -> Department:
    with schema_context(town.schema_name):
        return DepartmentFactory(code=code, name_fr=f"Service {code}")


def _requests(town: Municipality, department: Department, count: int, **kwargs) -> list[str]:
    """`count` new requests of a type of `department`; their numbers."""
    with schema_context(town.schema_name):
        service_type = ServiceTypeFactory(department=department)
        return [
            ServiceRequestFactory(service_type=service_type, **kwargs).number for _ in range(count)
        ]


def _numbers_shown(response) -> set[str]:
    return {
        line.split('value="')[1].split('"')[0]
        for line in response.text.splitlines()
        if 'name="requests"' in line
    }


def test_an_agent_sees_every_department_and_department_staff_only_theirs(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    parks = _department(laval, "parcs")
    road_numbers = set(_requests(laval, roads, 2))
    park_numbers = set(_requests(laval, parks, 1))

    agent = desk_client("agent").get(QUEUE)
    staff = desk_client("department", department=roads).get(QUEUE)
    supervisor = desk_client("supervisor", department=parks).get(QUEUE)

    assert agent.status_code == 200
    assert _numbers_shown(agent) == road_numbers | park_numbers
    assert _numbers_shown(staff) == road_numbers
    assert _numbers_shown(supervisor) == park_numbers
    assert "Mon service : Service parcs" in supervisor.text
    assert 'id="filtre-department"' not in staff.text  # their department is their queue
    assert "Toutes les requêtes" in agent.text


def test_a_department_filter_in_the_url_does_not_widen_department_staff_queue(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    parks = _department(laval, "parcs")
    _requests(laval, parks, 1)
    road_numbers = set(_requests(laval, roads, 1))

    response = desk_client("department", department=roads).get(QUEUE, {"department": "parcs"})

    assert _numbers_shown(response) == road_numbers


def test_levis_staff_see_none_of_lavals_requests(
    laval: Municipality, levis: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads, name_fr="Lampadaire lavallois")
        )

    response = desk_client("agent", town=levis).get(QUEUE, {"status": "all"})

    assert response.status_code == 200
    assert "Lampadaire lavallois" not in response.text
    assert _numbers_shown(response) == set()
    assert "Aucune requête ne correspond à ces filtres." in response.text


def test_the_tabs_give_my_requests_and_the_unassigned_ones(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    mine, someone_elses, unassigned = _requests(laval, roads, 3)
    client = desk_client("supervisor", department=roads)
    with schema_context(laval.schema_name):
        other = StaffProfileFactory(role="department", department=roads).user
        ServiceRequest.objects.filter(number=mine).update(assignee=client.user)
        ServiceRequest.objects.filter(number=someone_elses).update(assignee=other)

    mine_tab = client.get(QUEUE, {"scope": "mine"})

    assert _numbers_shown(mine_tab) == {mine}
    assert _numbers_shown(client.get(QUEUE, {"scope": "unassigned"})) == {unassigned}
    assert _numbers_shown(client.get(QUEUE)) == {mine, someone_elses, unassigned}
    assert 'href="/personnel/files/?scope=mine" aria-current="page"' in mine_tab.text


def test_each_filter_narrows_the_queue(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    forty_days_before = timezone.now() - timedelta(days=40)
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        potholes = ServiceTypeFactory(department=roads, code="nid-de-poule")
        lights = ServiceTypeFactory(department=roads, code="lampadaire")
        north = SectorFactory(code="nord")
        plain = ServiceRequestFactory(service_type=potholes).number
        urgent = ServiceRequestFactory(service_type=potholes, priority="urgent").number
        web = ServiceRequestFactory(service_type=potholes, channel="web").number
        lit = ServiceRequestFactory(service_type=lights, sector=north).number
        closed = ServiceRequestFactory(service_type=lights, status="closed").number
        old = ServiceRequestFactory(service_type=lights, now=forty_days_before).number
        late = ServiceRequestFactory(service_type=lights).number
        ServiceRequest.objects.filter(number=late).update(
            sla_due_at=timezone.now() - timedelta(hours=1)
        )
        ServiceRequest.objects.filter(number=old).update(
            sla_due_at=timezone.now() + timedelta(days=1)
        )
    client = desk_client("agent")
    open_ones = {plain, urgent, web, lit, old, late}
    # The town's date of that moment: 40 days ago may cross a change of time (EDT to EST), and
    # today's date less 40 days is then another day for an hour each night.
    forty_days_ago = timezone.localdate(forty_days_before).isoformat()

    assert _numbers_shown(client.get(QUEUE)) == open_ones  # open requests by default
    assert _numbers_shown(client.get(QUEUE, {"status": "closed"})) == {closed}
    assert _numbers_shown(client.get(QUEUE, {"status": "all"})) == open_ones | {closed}
    assert _numbers_shown(client.get(QUEUE, {"service_type": "lampadaire"})) == {lit, old, late}
    assert _numbers_shown(client.get(QUEUE, {"priority": "urgent"})) == {urgent}
    assert _numbers_shown(client.get(QUEUE, {"channel": "web"})) == {web}
    assert _numbers_shown(client.get(QUEUE, {"sector": "nord"})) == {lit}
    assert _numbers_shown(client.get(QUEUE, {"overdue": "on"})) == {late}
    assert _numbers_shown(
        client.get(QUEUE, {"created_from": forty_days_ago, "created_to": forty_days_ago})
    ) == {old}
    assert _numbers_shown(client.get(QUEUE, {"department": "voirie"})) == open_ones


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "perdue"}, "filtre-status", "Sélectionnez un choix valide."),
        ({"priority": "'; drop table"}, "filtre-priority", "Sélectionnez un choix valide."),
        ({"created_from": "2026-13-45"}, "filtre-created_from", "Saisissez une date valide."),
        (
            {"created_from": "2026-03-10", "created_to": "2026-03-01"},
            "filtre-created_to",
            "La date de fin précède la date de début : inversez-les.",
        ),
        ({"sort": "citizen__last_name"}, "filtre-sort_error", "Sélectionnez un choix valide."),
        ({"scope": "everyone"}, "filtre-sort_error", "Sélectionnez un choix valide."),
    ],
)
def test_a_bad_filter_gets_a_message_beside_its_field_and_no_error_page(
    laval: Municipality,
    desk_client: Callable[..., Client],
    query: dict[str, str],
    field: str,
    message: str,
) -> None:
    roads = _department(laval, "voirie")
    numbers = set(_requests(laval, roads, 1))

    response = desk_client("agent").get(QUEUE, query)

    assert response.status_code == 400
    assert message in response.text
    assert f'<a href="#{field}">' in response.text  # the summary leads to the field
    assert 'role="alert"' in response.text
    assert _numbers_shown(response) == numbers  # the other filters still apply


def test_a_bad_field_is_marked_invalid_and_described_by_its_message(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent").get(QUEUE, {"status": "perdue"})

    assert 'aria-invalid="true"' in response.text
    assert 'aria-describedby="filtre-status_error"' in response.text
    assert 'id="filtre-status_error"' in response.text


def test_an_unreadable_or_too_far_page_number_shows_a_page(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    numbers = set(_requests(laval, roads, 1))
    client = desk_client("agent")

    for page in ("abc", "999", "-1", "9" * 5000):
        response = client.get(QUEUE, {"page": page})
        assert response.status_code == 200
        assert _numbers_shown(response) == numbers


def test_the_sort_is_a_whitelist_of_columns_and_reverses_on_a_second_click(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    first, second, third = _requests(laval, roads, 3)
    with schema_context(laval.schema_name):
        ServiceRequest.objects.filter(number=second).update(priority="urgent")
        ServiceRequest.objects.filter(number=first).update(priority="high")
    client = desk_client("agent")

    def order(response) -> list[str]:
        return sorted((first, second, third), key=lambda n: response.text.index(f'value="{n}"'))

    by_number = client.get(QUEUE, {"sort": "number"})

    assert order(client.get(QUEUE)) == [third, second, first]  # newest first
    assert order(by_number) == [first, second, third]
    assert 'aria-sort="ascending"><a href="/personnel/files/?sort=-number">' in by_number.text
    assert order(client.get(QUEUE, {"sort": "-number"})) == [third, second, first]
    assert order(client.get(QUEUE, {"sort": "priority"})) == [second, first, third]


def test_fifty_requests_a_page_then_the_next(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    numbers = _requests(laval, roads, 51)
    client = desk_client("agent")

    first = client.get(QUEUE, {"sort": "number"})
    second = client.get(QUEUE, {"sort": "number", "page": "2"})

    assert len(_numbers_shown(first)) == 50
    assert _numbers_shown(second) == {numbers[-1]}
    assert "51 requêtes — page 1 sur 2" in first.text
    assert 'href="/personnel/files/?sort=number&amp;page=2" rel="next"' in first.text


def test_a_long_backlog_is_counted_up_to_a_cap_and_still_paged(
    laval: Municipality, desk_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("crm.selectors.queues.QUEUE_COUNT_CAP", 50)
    monkeypatch.setattr("crm.desk.queues.views.QUEUE_COUNT_CAP", 50)
    roads = _department(laval, "voirie")
    numbers = _requests(laval, roads, 51)
    client = desk_client("agent")

    first = client.get(QUEUE, {"sort": "number"})
    second = client.get(QUEUE, {"sort": "number", "page": "2"})
    english = client.get("/en/staff/queues/", {"sort": "number"})

    assert "Plus de 50 requêtes : filtrez la file pour les voir toutes — page 1" in first.text
    assert "sur 2" not in first.text
    assert 'href="/personnel/files/?sort=number&amp;page=2" rel="next"' in first.text
    assert _numbers_shown(second) == {numbers[-1]}
    assert "More than 50 requests: filter the queue to see them all — page 1" in english.text


def test_sla_badges_say_late_due_soon_paused_in_words(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    late, soon, paused, recorded, fine = _requests(laval, roads, 5)
    now = timezone.now()
    with schema_context(laval.schema_name):
        requests = ServiceRequest.objects
        requests.filter(number=late).update(sla_due_at=now - timedelta(minutes=5))
        requests.filter(number=soon).update(
            sla_warn_at=now - timedelta(minutes=5), sla_due_at=now + timedelta(hours=2)
        )
        requests.filter(number=paused).update(
            status="on_hold", sla_paused_at=now, sla_due_at=now - timedelta(hours=1)
        )
        requests.filter(number=recorded).update(
            sla_breached_at=now - timedelta(hours=1), sla_due_at=now + timedelta(days=1)
        )
        requests.filter(number=fine).update(
            sla_warn_at=now + timedelta(days=1), sla_due_at=now + timedelta(days=2)
        )

    response = desk_client("agent").get(QUEUE, {"sort": "number"})
    rows = {
        n: response.text.split(f'value="{n}"')[1].split("</tr>")[0]
        for n in (late, soon, paused, recorded, fine)
    }

    assert '<span class="pastille pastille--retard">En retard</span>' in rows[late]
    assert '<span class="pastille pastille--bientot">Bientôt dû</span>' in rows[soon]
    assert '<span class="pastille pastille--neutre">En pause</span>' in rows[paused]
    assert "En retard" in rows[recorded]  # a recorded breach stays one
    assert '<span class="pastille pastille--ok">Dans les délais</span>' in rows[fine]


def test_the_page_costs_the_same_queries_for_2_and_20_requests(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    client = desk_client("supervisor", department=roads)
    with schema_context(laval.schema_name):
        people = [StaffProfileFactory(role="department", department=roads).user for _ in range(3)]
        sectors = [SectorFactory() for _ in range(3)]

    def build(count: int) -> None:
        for i, number in enumerate(_requests(laval, roads, count)):
            with schema_context(laval.schema_name):
                ServiceRequest.objects.filter(number=number).update(
                    assignee=people[i % 3], sector=sectors[i % 3]
                )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE, {"status": "all"})
        assert response.status_code == 200
        return len(captured)

    build(2)
    with_two = queries()
    build(18)
    with_twenty = queries()

    assert with_two == with_twenty


def test_htmx_gets_the_queue_alone_and_english_the_same_page(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("agent")

    partial = client.get(QUEUE, {"status": "all"}, HTTP_HX_REQUEST="true")
    english = client.get("/en/staff/queues/")

    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="file" class="file">')
    assert "<html" not in partial.text
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    assert 'action="/en/staff/queues/"' in english.text
