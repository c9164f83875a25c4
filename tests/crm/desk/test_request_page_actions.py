"""Each action of the request page, through the page: status, cancellation, assignment, notes
and replies, merge. Bad input gets a message next to its field and writes nothing; a form sent
twice acts once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import RequestEvent, RequestStatus, ServiceRequest
from tenants.models import Municipality
from tests.factories import (
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
)

pytestmark = pytest.mark.django_db

TOKEN = "jeton-de-test-0001"


def page_url(number: str) -> str:
    return f"/personnel/requetes/{number}/"


@pytest.fixture
def roads(laval: Municipality) -> Any:
    with schema_context(laval.schema_name):
        return DepartmentFactory(code="voirie", name_fr="Voirie")


@pytest.fixture
def parks(laval: Municipality) -> Any:
    with schema_context(laval.schema_name):
        return DepartmentFactory(code="parcs", name_fr="Parcs")


@pytest.fixture
def pothole(laval: Municipality, roads: Any) -> Any:
    with schema_context(laval.schema_name):
        return ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads),
            latitude="45.560000",
            longitude="-73.710000",
        )


def events(town: Municipality, service_request: Any) -> list[tuple[str, str, str]]:
    with schema_context(town.schema_name):
        return list(
            RequestEvent.objects.filter(request=service_request)
            .order_by("id")
            .values_list("kind", "visibility", "message")
        )


def reloaded(town: Municipality, service_request: Any) -> ServiceRequest:
    with schema_context(town.schema_name):
        return ServiceRequest.objects.select_related("department", "assignee").get(
            pk=service_request.pk
        )


def post(client: Client, url: str, data: dict[str, str], **extra: Any) -> Any:
    return client.post(url, data, **extra)


# --- Status ------------------------------------------------------------------------------------


def test_staff_change_the_status_with_a_message_for_the_citizen(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    client = desk_client("agent")

    response = post(
        client,
        page_url(pothole.number) + "statut/",
        {
            "statut-status": "in_progress",
            "statut-message": "Équipe en route.",
            "statut-submission": TOKEN,
        },
    )

    assert response.status_code == 302
    assert response.url == page_url(pothole.number)
    assert reloaded(laval, pothole).status == RequestStatus.IN_PROGRESS
    assert events(laval, pothole)[-1] == ("status_changed", "public", "Équipe en route.")
    assert "Statut changé : En traitement." in client.get(response.url).text


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("closed", "Une requête « Nouvelle » ne peut pas passer à « Fermée »."),
        ("perdue", "Statut inconnu : perdue."),
        ("cancelled", "Utilisez l&#x27;annulation ou la fusion pour ce statut."),
        ("", "Choisissez le nouveau statut."),
    ],
)
def test_a_status_the_workflow_refuses_is_shown_next_to_the_field_and_writes_nothing(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    status: str,
    message: str,
) -> None:
    before = events(laval, pothole)

    response = post(
        desk_client("agent"),
        page_url(pothole.number) + "statut/",
        {"statut-status": status, "statut-submission": TOKEN},
    )

    assert response.status_code == 400
    assert f'<ul class="errorlist" id="id_statut-status_error"><li>{message}</li></ul>' in (
        response.text
    )
    assert 'aria-invalid="true" aria-describedby="id_statut-status_error"' in response.text
    assert 'class="resume-erreurs" role="alert"' in response.text
    assert events(laval, pothole) == before
    assert reloaded(laval, pothole).status == RequestStatus.NEW


def test_a_status_form_sent_twice_acts_once(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    client = desk_client("agent")
    data = {"statut-status": "on_hold", "statut-submission": TOKEN}

    first = post(client, page_url(pothole.number) + "statut/", data)
    second = post(client, page_url(pothole.number) + "statut/", data)

    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert [kind for kind, _v, _m in events(laval, pothole)].count("status_changed") == 1


# --- Cancellation ----------------------------------------------------------------------------


def test_a_cancellation_needs_a_reason(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    client = desk_client("agent")
    before = events(laval, pothole)

    refused = post(
        client,
        page_url(pothole.number) + "annulation/",
        {"annulation-reason": "  ", "annulation-submission": TOKEN},
    )

    assert refused.status_code == 400
    assert "Indiquez le motif de l&#x27;annulation." in refused.text
    assert events(laval, pothole) == before

    done = post(
        client,
        page_url(pothole.number) + "annulation/",
        {"annulation-reason": "Signalée par erreur.", "annulation-submission": TOKEN},
    )

    assert done.status_code == 302
    cancelled = reloaded(laval, pothole)
    assert cancelled.status == RequestStatus.CANCELLED
    assert cancelled.cancellation_reason == "Signalée par erreur."
    assert events(laval, pothole)[-1] == ("status_changed", "public", "Signalée par erreur.")


# --- Assignment --------------------------------------------------------------------------------


def test_an_agent_assigns_to_a_department_and_a_person(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, parks: Any
) -> None:
    with schema_context(laval.schema_name):
        gardener = StaffProfileFactory(role="department", department=parks).user

    response = post(
        desk_client("agent"),
        page_url(pothole.number) + "assignation/",
        {
            "assignation-department": "parcs",
            "assignation-assignee": gardener.email,
            "assignation-submission": TOKEN,
        },
    )

    assert response.status_code == 302
    assigned = reloaded(laval, pothole)
    assert (assigned.department.code, assigned.assignee_id, assigned.status) == (
        "parcs",
        gardener.pk,
        RequestStatus.ASSIGNED,
    )
    assert events(laval, pothole)[-1][0] == "assigned"


def test_assigning_to_nobody_is_refused_next_to_the_field(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    before = events(laval, pothole)

    response = post(
        desk_client("agent"),
        page_url(pothole.number) + "assignation/",
        {"assignation-department": "", "assignation-assignee": "", "assignation-submission": TOKEN},
    )

    assert response.status_code == 400
    assert (
        '<ul class="errorlist" id="id_assignation-assignee_error"><li>Choisissez un service ou '
        "une personne.</li></ul>"
    ) in response.text
    assert events(laval, pothole) == before


def test_a_supervisor_assigns_within_their_department_only(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, roads: Any, parks: Any
) -> None:
    client = desk_client("supervisor", department=roads)
    page = client.get(page_url(pothole.number)).text
    offered = page.split('name="assignation-department"')[1].split("</select>")[0]
    assert '<option value="voirie"' in offered
    assert "parcs" not in offered
    before = events(laval, pothole)

    response = post(
        client,
        page_url(pothole.number) + "assignation/",
        {"assignation-department": "parcs", "assignation-submission": TOKEN},
    )

    assert response.status_code == 400
    assert "Un superviseur assigne dans son propre service." in response.text
    assert events(laval, pothole) == before
    assert reloaded(laval, pothole).department.code == "voirie"


def test_department_staff_may_not_assign(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, roads: Any
) -> None:
    before = events(laval, pothole)

    response = post(
        desk_client("department", department=roads),
        page_url(pothole.number) + "assignation/",
        {"assignation-department": "voirie", "assignation-submission": TOKEN},
    )

    assert response.status_code == 403
    assert events(laval, pothole) == before


def test_a_closed_request_cannot_be_assigned_even_by_a_forged_form(
    desk_client: Callable[..., Client], laval: Municipality, roads: Any
) -> None:
    with schema_context(laval.schema_name):
        closed = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads), status="closed"
        )
    before = events(laval, closed)

    response = post(
        desk_client("agent"),
        page_url(closed.number) + "assignation/",
        {"assignation-department": "voirie", "assignation-submission": TOKEN},
    )

    assert response.status_code == 400
    assert f"La requête {closed.number} est fermée : on ne peut plus l&#x27;assigner." in (
        response.text
    )
    assert events(laval, closed) == before


# --- Notes and replies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "prefix", "kind", "visibility", "done"),
    [
        ("note/", "note", "internal_note", "internal", "Note interne ajoutée."),
        ("reponse/", "reponse", "public_reply", "public", "Réponse au citoyen ajoutée."),
    ],
)
def test_an_internal_note_and_a_public_reply_are_recorded_as_what_they_are(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    roads: Any,
    segment: str,
    prefix: str,
    kind: str,
    visibility: str,
    done: str,
) -> None:
    client = desk_client("department", department=roads)

    response = post(
        client,
        page_url(pothole.number) + segment,
        {f"{prefix}-message": "  Le trou a été rebouché.  ", f"{prefix}-submission": TOKEN},
    )

    assert response.status_code == 302
    assert events(laval, pothole)[-1] == (kind, visibility, "Le trou a été rebouché.")
    assert done in client.get(response.url).text


@pytest.mark.parametrize(("segment", "prefix"), [("note/", "note"), ("reponse/", "reponse")])
def test_an_empty_note_or_reply_is_refused_next_to_the_field(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    segment: str,
    prefix: str,
) -> None:
    before = events(laval, pothole)

    response = post(
        desk_client("agent"),
        page_url(pothole.number) + segment,
        {f"{prefix}-message": "   ", f"{prefix}-submission": TOKEN},
    )

    assert response.status_code == 400
    assert (
        f'<ul class="errorlist" id="id_{prefix}-message_error"><li>Le message est vide.</li></ul>'
    ) in response.text
    assert events(laval, pothole) == before


def test_the_reply_form_warns_that_the_citizen_will_see_it(
    desk_client: Callable[..., Client], pothole: Any
) -> None:
    page = desk_client("agent").get(page_url(pothole.number)).text

    note = page.split('id="titre-note"')[0].rsplit("<section", 1)[1]
    reply = page.split('id="titre-reponse"')[0].rsplit("<section", 1)[1]
    assert 'class="panneau note-interne"' in note
    assert 'class="panneau reponse-publique"' in reply
    assert "cette réponse est publique. Le citoyen la verra" in page
    assert "Pour le personnel seulement : le citoyen ne la voit jamais." in page


def test_a_form_without_its_token_writes_nothing(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    before = events(laval, pothole)

    response = post(desk_client("agent"), page_url(pothole.number) + "note/", {"note-message": "x"})

    assert response.status_code == 400
    assert events(laval, pothole) == before


def test_other_departments_and_towns_cannot_act_on_a_request(
    desk_client: Callable[..., Client],
    laval: Municipality,
    levis: Municipality,
    pothole: Any,
    parks: Any,
) -> None:
    before = events(laval, pothole)
    data = {"note-message": "Intrusion", "note-submission": TOKEN}

    other_department = post(
        desk_client("department", department=parks), page_url(pothole.number) + "note/", data
    )
    other_town = post(
        desk_client("administrator", town=levis), page_url(pothole.number) + "note/", data
    )

    assert (other_department.status_code, other_town.status_code) == (404, 404)
    assert events(laval, pothole) == before


# --- Duplicates and merge ----------------------------------------------------------------------


@pytest.fixture
def twin(laval: Municipality, pothole: Any) -> Any:
    """An open request of the same type, 1 m away, a day later."""
    with schema_context(laval.schema_name):
        return ServiceRequestFactory(
            service_type=pothole.service_type,
            latitude="45.560010",
            longitude="-73.710000",
            address="14, rue des Érables",
        )


def test_a_nearby_open_request_of_the_same_type_is_offered_as_a_duplicate(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, twin: Any
) -> None:
    with schema_context(laval.schema_name):
        far = ServiceRequestFactory(
            service_type=pothole.service_type, latitude="45.570000", longitude="-73.710000"
        )
        other_type = ServiceRequestFactory(latitude="45.560000", longitude="-73.710000")

    page = desk_client("agent").get(page_url(pothole.number)).text

    duplicates = page.split('id="titre-doublons"')[1]
    assert f'href="{page_url(pothole.number)}fusion/{twin.number}/"' in duplicates
    assert "14, rue des Érables" in duplicates
    assert far.number not in duplicates
    assert other_type.number not in duplicates


def test_a_duplicate_in_another_department_is_not_offered_to_department_staff(
    desk_client: Callable[..., Client],
    laval: Municipality,
    pothole: Any,
    twin: Any,
    roads: Any,
    parks: Any,
) -> None:
    with schema_context(laval.schema_name):
        ServiceRequest.objects.filter(pk=twin.pk).update(department=parks)

    page = desk_client("department", department=roads).get(page_url(pothole.number)).text

    assert twin.number not in page


def test_a_merge_is_confirmed_then_closes_the_duplicate(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any, twin: Any
) -> None:
    client = desk_client("agent")
    url = page_url(pothole.number) + f"fusion/{twin.number}/"

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Confirmer la fusion" in confirm.text
    assert reloaded(laval, twin).status == RequestStatus.NEW  # nothing merged yet

    done = post(client, url, {"fusion-kept": pothole.number, "fusion-submission": TOKEN})

    assert done.status_code == 302
    assert done.url == page_url(pothole.number)
    folded = reloaded(laval, twin)
    assert (folded.status, folded.duplicate_of_id) == (RequestStatus.DUPLICATE, pothole.pk)
    assert events(laval, pothole)[-1][0] == "merged"
    assert reloaded(laval, pothole).status == RequestStatus.NEW


def test_a_merge_into_itself_is_refused(
    desk_client: Callable[..., Client], laval: Municipality, pothole: Any
) -> None:
    before = events(laval, pothole)
    url = page_url(pothole.number) + f"fusion/{pothole.number}/"

    response = post(
        desk_client("agent"), url, {"fusion-kept": pothole.number, "fusion-submission": TOKEN}
    )

    assert response.status_code == 400
    assert "Une requête ne peut pas être son propre doublon." in response.text
    assert events(laval, pothole) == before
