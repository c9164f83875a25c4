"""The request page as each role sees it: who may open it, the whole timeline, the citizen's
details and other requests (with the access log), the actions a request's status allows, and a
fixed number of queries whatever the length of its timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from crm import services
from crm.models import AccessLog, RequestStatus
from tenants.models import Municipality
from tests.crm.desk.request_files import PNG, upload
from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
)

pytestmark = pytest.mark.django_db


def page_url(number: str) -> str:
    return f"/personnel/requetes/{number}/"


@pytest.fixture
def roads(laval: Municipality) -> object:
    with schema_context(laval.schema_name):
        return DepartmentFactory(code="voirie", name_fr="Voirie")


@pytest.fixture
def parks(laval: Municipality) -> object:
    with schema_context(laval.schema_name):
        return DepartmentFactory(code="parcs", name_fr="Parcs")


@pytest.fixture
def pothole(laval: Municipality, roads: object) -> object:
    """A request of Laval's roads department, from a known citizen, with two other requests of
    that citizen (one in another department)."""
    with schema_context(laval.schema_name):
        citizen = CitizenFactory(first_name="Héloïse", last_name="Lavoie", phone="4505550199")
        service_type = ServiceTypeFactory(department=roads, name_fr="Nid-de-poule")
        earlier = ServiceRequestFactory(service_type=service_type, citizen=citizen)
        other_department = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=DepartmentFactory(code="parcs")),
            citizen=citizen,
        )
        service_request = ServiceRequestFactory(
            service_type=service_type, citizen=citizen, description="Trou profond devant l'école."
        )
        service_request.earlier = earlier
        service_request.other_department = other_department
        return service_request


def test_the_page_and_the_service_share_one_list_of_moves() -> None:
    assert services.request_status_targets("new") == [
        "assigned",
        "in_progress",
        "on_hold",
        "resolved",
    ]
    assert services.request_status_targets("resolved") == ["in_progress", "closed"]
    assert services.request_status_targets("closed") == []
    assert services.request_may_cancel("on_hold")
    assert not services.request_may_cancel("resolved")


def test_the_url_is_named_for_other_sections(pothole: object) -> None:
    assert reverse("desk:request", args=[pothole.number]) == page_url(pothole.number)


@pytest.mark.parametrize("role", ["agent", "administrator"])
def test_town_wide_roles_see_the_request_its_citizen_and_their_other_requests(
    desk_client: Callable[..., Client], laval: Municipality, pothole: object, role: str
) -> None:
    client = desk_client(role)

    response = client.get(page_url(pothole.number))

    assert response.status_code == 200
    assert (
        f"<h1>Requête {pothole.number} — {pothole.service_type.code} — Nid-de-poule</h1>"
        in response.text
    )
    assert "Trou profond devant l&#x27;école." in response.text
    assert "Héloïse Lavoie" in response.text
    assert "4505550199" in response.text
    assert response.text.count(f'href="{page_url(pothole.earlier.number)}"') == 1
    assert f'href="{page_url(pothole.other_department.number)}"' in response.text


def test_opening_a_request_with_a_citizen_writes_the_access_log(
    desk_client: Callable[..., Client], laval: Municipality, pothole: object
) -> None:
    client = desk_client("agent")

    client.get(page_url(pothole.number))

    with schema_context(laval.schema_name):
        logged = list(
            AccessLog.objects.filter(actor=client.user).values_list(
                "citizen_id", "purpose", "context", "details"
            )
        )
    assert logged == [
        (
            pothole.citizen_id,
            f"Traitement de la requête {pothole.number}",
            "personnel",
            f"Requête(s) {pothole.number}",
        )
    ]


def test_department_staff_see_their_departments_request_without_personal_data(
    desk_client: Callable[..., Client], laval: Municipality, pothole: object, roads: object
) -> None:
    client = desk_client("department", department=roads)

    response = client.get(page_url(pothole.number))

    assert response.status_code == 200
    assert "Trou profond" in response.text
    assert "Héloïse" not in response.text
    assert "4505550199" not in response.text
    assert pothole.earlier.number not in response.text
    assert "Assigner" not in response.text  # department staff do not dispatch
    with schema_context(laval.schema_name):
        assert not AccessLog.objects.filter(actor=client.user).exists()


def test_a_supervisor_sees_the_citizens_other_requests_of_their_department_only(
    desk_client: Callable[..., Client], pothole: object, roads: object
) -> None:
    client = desk_client("supervisor", department=roads)

    response = client.get(page_url(pothole.number))

    assert "Héloïse Lavoie" in response.text
    assert f'href="{page_url(pothole.earlier.number)}"' in response.text
    assert pothole.other_department.number not in response.text


@pytest.mark.parametrize("role", ["department", "supervisor"])
def test_another_departments_staff_get_404(
    desk_client: Callable[..., Client], pothole: object, parks: object, role: str
) -> None:
    client = desk_client(role, department=parks)

    assert client.get(page_url(pothole.number)).status_code == 404
    assert client.get(page_url("2026-999999")).status_code == 404


def test_levis_staff_cannot_open_a_laval_request(
    desk_client: Callable[..., Client], levis: Municipality, pothole: object
) -> None:
    client = desk_client("administrator", town=levis)

    assert client.get(page_url(pothole.number)).status_code == 404


def test_the_page_answers_in_english(desk_client: Callable[..., Client], pothole: object) -> None:
    response = desk_client("agent").get(f"/en/staff/requests/{pothole.number}/")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert pothole.number in response.text


def test_the_timeline_shows_who_when_and_what_oldest_first_or_newest_first(
    desk_client: Callable[..., Client], laval: Municipality, pothole: object
) -> None:
    client = desk_client("agent")
    with schema_context(laval.schema_name):
        later = pothole.created_at + timedelta(hours=1)
        services.request_add_note(
            actor=client.user,
            service_request=pothole,
            message="Vérifier le trottoir.",
            public=False,
            now=later,
        )
        services.request_add_note(
            actor=client.user,
            service_request=pothole,
            message="Une équipe passera demain.",
            public=True,
            now=later + timedelta(hours=1),
        )
    name = client.user.get_full_name()

    oldest_first = client.get(page_url(pothole.number)).text
    newest_first = client.get(page_url(pothole.number) + "?ordre=recent").text

    created = oldest_first.index("Création")
    note = oldest_first.index("Vérifier le trottoir.")
    reply = oldest_first.index("Une équipe passera demain.")
    assert created < note < reply
    assert newest_first.index("Une équipe passera demain.") < newest_first.index("Création")
    assert 'class="evenement note-interne"' in oldest_first
    assert 'class="evenement reponse-publique"' in oldest_first
    assert f"— {name}</span>" in oldest_first
    local = timezone.localtime(later)
    assert f'<time datetime="{local.isoformat()}">' in oldest_first


@pytest.mark.parametrize("status", [RequestStatus.CLOSED])
def test_a_closed_request_offers_no_status_assignment_cancellation_or_merge(
    desk_client: Callable[..., Client], laval: Municipality, roads: object, status: str
) -> None:
    with schema_context(laval.schema_name):
        closed = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads), status=status
        )

    response = desk_client("agent").get(page_url(closed.number))

    assert response.status_code == 200
    assert 'action="' + page_url(closed.number) + 'statut/"' not in response.text
    assert 'action="' + page_url(closed.number) + 'assignation/"' not in response.text
    assert 'action="' + page_url(closed.number) + 'annulation/"' not in response.text
    assert "Doublons probables" not in response.text
    assert 'action="' + page_url(closed.number) + 'note/"' in response.text


def test_a_resolved_request_offers_closing_and_reopening_only(
    desk_client: Callable[..., Client], laval: Municipality, roads: object
) -> None:
    with schema_context(laval.schema_name):
        resolved = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads), status=RequestStatus.RESOLVED
        )

    response = desk_client("agent").get(page_url(resolved.number))

    options = response.text.split('name="statut-status"')[1].split("</select>")[0]
    assert '<option value="in_progress">En traitement</option>' in options
    assert '<option value="closed">Fermée</option>' in options
    assert options.count("<option") == 3  # and "— choisissez —", selected: no change by accident
    assert "annulation/" not in response.text


def _page_queries(client: Client, number: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(number))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["agent", "department"])
def test_the_page_costs_the_same_queries_with_2_or_20_events_and_attachments(
    desk_client: Callable[..., Client], laval: Municipality, roads: object, role: str
) -> None:
    client = desk_client(role, department=roads if role == "department" else None)
    with schema_context(laval.schema_name):
        service_type = ServiceTypeFactory(department=roads)
        citizen = CitizenFactory()
        now = timezone.now()
        short, long = (
            ServiceRequestFactory(
                service_type=service_type,
                citizen=citizen,
                latitude="45.560000",
                longitude="-73.710000",
            )
            for _ in range(2)
        )
        for service_request, count in ((short, 2), (long, 20)):
            for index in range(count):
                services.request_add_note(
                    actor=client.user,
                    service_request=service_request,
                    message=f"Note {index}",
                    public=index % 2 == 0,
                    now=now,
                )
                services.request_attach(
                    actor=client.user,
                    service_request=service_request,
                    upload=upload(f"photo-{index}.png", PNG),
                )
            services.request_dispatch(
                viewer=_agent_viewer(client.user),
                service_request=service_request,
                department_code="voirie",
                assignee_email=client.user.email,
            )
            ServiceRequestFactory(
                service_type=service_type,
                latitude="45.560010",
                longitude="-73.710010",
                citizen=citizen,
            )
    _page_queries(client, short.number)  # warm the process's caches (routing, settings)

    counts = (_page_queries(client, short.number), _page_queries(client, long.number))
    assert counts[0] == counts[1]


def _agent_viewer(user: object) -> object:
    from crm.roles import AGENT, Viewer

    return Viewer(AGENT, user=user)
