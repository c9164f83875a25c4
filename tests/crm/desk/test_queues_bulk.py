"""Bulk assignment and status change from the queue: all or nothing through the per-request
services, within each role's rights, once per submission."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_tenants.utils import schema_context

from crm.errors import CrmError, CrmErrorCode
from crm.models import Department, EventKind, RequestEvent, ServiceRequest
from crm.roles import Viewer
from crm.services import requests_bulk_assign, requests_bulk_change_status
from tenants.models import Municipality
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
)

pytestmark = pytest.mark.django_db

BULK = "/personnel/files/actions/"


def _department(town: Municipality, code: str) -> Department:
    with schema_context(town.schema_name):
        return DepartmentFactory(code=code, name_fr=f"Service {code}")


def _requests(town: Municipality, department: Department, count: int, **kwargs) -> list[str]:
    with schema_context(town.schema_name):
        service_type = ServiceTypeFactory(department=department)
        return [
            ServiceRequestFactory(service_type=service_type, **kwargs).number for _ in range(count)
        ]


def _state(town: Municipality, numbers: list[str]) -> dict[str, tuple]:
    with schema_context(town.schema_name):
        return {
            r.number: (r.status, r.department.code, r.assignee_id, r.events.count())
            for r in ServiceRequest.objects.filter(number__in=numbers).select_related("department")
        }


def _events(town: Municipality, kind: str) -> int:
    with schema_context(town.schema_name):
        return RequestEvent.objects.filter(kind=kind).count()


def _post(client: Client, numbers: list[str], query: str = "", **fields: str):
    form = client.get("/personnel/files/" + (f"?{query}" if query else ""))
    token = form.text.split('name="submission" value="')[2].split('"')[0]  # the bulk form's
    data = {"submission": token, "requests": numbers} | fields
    return client.post(BULK + (f"?{query}" if query else ""), data)


def test_a_supervisor_assigns_checked_requests_to_a_person_of_their_department(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    first, second, untouched = _requests(laval, roads, 3)
    client = desk_client("supervisor", department=roads)
    with schema_context(laval.schema_name):
        worker = StaffProfileFactory(role="department", department=roads).user

    response = _post(
        client, [first, second], query="scope=unassigned", action="assign", assignee=str(worker.pk)
    )

    assert response.status_code == 302
    assert response.url == "/personnel/files/?scope=unassigned"
    after = _state(laval, [first, second, untouched])
    assert after[first][:3] == ("assigned", "voirie", worker.pk)
    assert after[second][:3] == ("assigned", "voirie", worker.pk)
    assert after[untouched][:3] == ("new", "voirie", None)
    assert _events(laval, EventKind.ASSIGNED) == 2  # one timeline row each, as one by one
    assert "2 requêtes assignées." in client.get(response.url).text


def test_an_agent_changes_the_status_of_checked_requests_with_a_message(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    numbers = _requests(laval, roads, 2)
    client = desk_client("agent")

    response = _post(client, numbers, action="status", status="in_progress", message="En route")

    assert response.status_code == 302
    assert {s[0] for s in _state(laval, numbers).values()} == {"in_progress"}
    with schema_context(laval.schema_name):
        changes = RequestEvent.objects.filter(kind=EventKind.STATUS_CHANGED)
        assert sorted(changes.values_list("message", "actor_id")) == [
            ("En route", client.user.pk),
            ("En route", client.user.pk),
        ]


def test_one_refused_request_leaves_every_request_unchanged_and_says_which(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    first, second = _requests(laval, roads, 2)
    (closed,) = _requests(laval, roads, 1, status="closed")
    before = _state(laval, [first, second, closed])
    changes_before = _events(laval, EventKind.STATUS_CHANGED)
    client = desk_client("agent")

    response = _post(
        client, [first, closed, second], query="status=all", action="status", status="in_progress"
    )

    assert response.status_code == 409
    assert (
        f"Requête {closed} : Une requête « Fermée » ne peut pas passer à « En traitement ». "
        "Aucune requête n&#x27;a été modifiée."
    ) in response.text
    assert 'role="alert"' in response.text
    assert _state(laval, [first, second, closed]) == before
    assert _events(laval, EventKind.STATUS_CHANGED) == changes_before  # no timeline row


def test_a_bulk_assignment_with_a_closed_request_assigns_none(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    _department(laval, "parcs")
    (open_one,) = _requests(laval, roads, 1)
    (closed,) = _requests(laval, roads, 1, status="closed")
    before = _state(laval, [open_one, closed])

    response = _post(
        desk_client("agent"),
        [open_one, closed],
        query="status=all",
        action="assign",
        department="parcs",
    )

    assert response.status_code == 409
    assert f"La requête {closed} est fermée" in response.text
    assert _state(laval, [open_one, closed]) == before
    assert _events(laval, EventKind.ASSIGNED) == 0


def test_a_supervisor_cannot_assign_outside_their_department(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    parks = _department(laval, "parcs")
    (road_request,) = _requests(laval, roads, 1)
    (park_request,) = _requests(laval, parks, 1)
    client = desk_client("supervisor", department=roads)
    before = _state(laval, [road_request, park_request])

    to_parks = _post(client, [road_request], action="assign", department="parcs")
    parks_request = _post(
        client, [road_request, park_request], action="assign", department="voirie"
    )

    assert to_parks.status_code == 400  # parks is not among the choices offered
    assert "Sélectionnez un choix valide." in to_parks.text
    assert parks_request.status_code == 404  # a request of another department does not exist
    assert f"La requête {park_request} n&#x27;existe pas." in parks_request.text
    assert _state(laval, [road_request, park_request]) == before
    viewer = Viewer("supervisor", user=client.user, department=roads)
    with schema_context(laval.schema_name), pytest.raises(CrmError) as refused:
        requests_bulk_assign(viewer=viewer, numbers=[road_request], department_code="parcs")
    assert refused.value.code == CrmErrorCode.OTHER_DEPARTMENT
    assert _state(laval, [road_request]) == {road_request: before[road_request]}


def test_department_staff_change_statuses_but_do_not_assign(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    (number,) = _requests(laval, roads, 1)
    client = desk_client("department", department=roads)
    page = client.get("/personnel/files/")

    refused = _post(client, [number], action="assign", department="voirie")

    assert "Assigner les requêtes cochées" not in page.text
    assert "Changer le statut des requêtes cochées" in page.text
    assert refused.status_code == 403
    assert _state(laval, [number])[number][:3] == ("new", "voirie", None)
    assert _post(client, [number], action="status", status="in_progress").status_code == 302
    assert _state(laval, [number])[number][0] == "in_progress"


def test_the_status_choices_are_the_moves_the_rows_shown_can_make(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    _requests(laval, roads, 1, status="resolved")
    client = desk_client("agent")

    resolved_only = client.get("/personnel/files/", {"status": "resolved"}).text
    form = resolved_only.split('id="groupe-status"')[1].split("</select>")[0]

    assert 'value="closed"' in form
    assert 'value="in_progress"' in form
    assert 'value="on_hold"' not in form
    assert 'value="cancelled"' not in form  # cancellation has its own action


def test_a_double_submission_acts_once(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    numbers = _requests(laval, roads, 2)
    client = desk_client("agent")
    token = client.get("/personnel/files/").text.split('name="submission" value="')[2].split('"')[0]
    data = {"submission": token, "requests": numbers, "action": "status", "status": "on_hold"}

    first = client.post(BULK, data)
    second = client.post(BULK, data)

    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert _events(laval, EventKind.STATUS_CHANGED) == 2  # once per request, not twice
    assert {s[0] for s in _state(laval, numbers).values()} == {"on_hold"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"action": "status", "status": "in_progress", "requests": []},
            "Cochez au moins une requête.",
        ),
        ({"action": "status", "status": ""}, "Choisissez le nouveau statut."),
        ({"action": "status", "status": "perdue"}, "Sélectionnez un choix valide."),
        ({"action": "assign"}, "Choisissez un service ou une personne."),
        ({"action": "assign", "assignee": "999999"}, "Sélectionnez un choix valide."),
        ({"action": "effacer"}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_bulk_input_gets_a_message_and_changes_nothing(
    laval: Municipality,
    desk_client: Callable[..., Client],
    fields: dict[str, object],
    message: str,
) -> None:
    roads = _department(laval, "voirie")
    numbers = _requests(laval, roads, 1)
    before = _state(laval, numbers)
    client = desk_client("agent")
    token = client.get("/personnel/files/").text.split('name="submission" value="')[2].split('"')[0]

    response = client.post(BULK, {"submission": token, "requests": numbers} | fields)

    assert response.status_code == 400
    assert message in response.text
    assert _state(laval, numbers) == before


def test_the_bulk_services_refuse_what_one_may_not_read_or_do(
    laval: Municipality, levis: Municipality
) -> None:
    roads = _department(laval, "voirie")
    (number,) = _requests(laval, roads, 1)
    with schema_context(levis.schema_name):
        levis_agent = StaffProfileFactory(role="agent").user
    with schema_context(laval.schema_name):
        staff = StaffProfileFactory(role="department", department=roads).user

    with schema_context(levis.schema_name), pytest.raises(CrmError) as elsewhere:
        requests_bulk_change_status(
            viewer=Viewer("agent", user=levis_agent), numbers=[number], status="in_progress"
        )
    with schema_context(laval.schema_name), pytest.raises(PermissionDenied):
        requests_bulk_assign(
            viewer=Viewer("department", user=staff, department=roads),
            numbers=[number],
            department_code="voirie",
        )

    assert elsewhere.value.code == CrmErrorCode.NOT_FOUND  # Lévis does not see Laval's
    assert _state(laval, [number])[number][:3] == ("new", "voirie", None)
