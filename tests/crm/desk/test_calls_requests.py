"""A request taken on the desk: the type's questions as fields, validated by request_intake as
the APIs are, errors next to their field, nothing written twice, a confirmation with the
number, and the map's tile server allowed on that page only."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Citizen, ServiceRequest
from tenants.models import Municipality
from tests.crm.desk.calls_helpers import DESK, NEW_REQUEST, state_purpose, token
from tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(desk_client: Callable[..., Client]) -> Client:
    return desk_client("agent")


def _requests(schema: str = "laval") -> list[tuple[Any, ...]]:
    with schema_context(schema):
        return list(
            ServiceRequest.objects.order_by("pk").values_list(
                "service_type__code", "channel", "address", "latitude", "citizen_id", "attributes"
            )
        )


def _post(client: Client, **fields: Any) -> Any:
    page = client.get(NEW_REQUEST, {"service_type": fields.get("service_type", "")})
    return client.post(NEW_REQUEST, {"submission": token(page.text), **fields})


def test_the_form_offers_internal_types_to_staff_and_shows_the_type_s_questions(
    catalog: dict[str, Any], agent: Client
) -> None:
    page = agent.get(NEW_REQUEST, {"service_type": "nid-de-poule"})

    assert page.status_code == 200
    assert '<option value="interne">' in page.text
    assert '<option value="arbre">' in page.text
    assert 'name="attribute_taille"' in page.text
    assert 'value="petit"' in page.text
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page.text
    assert "https://tile.openstreetmap.org" in page["Content-Security-Policy"]
    assert "tile.openstreetmap.org" not in agent.get(DESK)["Content-Security-Policy"]


def test_the_questions_come_alone_for_htmx_when_the_type_is_chosen(
    catalog: dict[str, Any], agent: Client
) -> None:
    page = agent.get(
        NEW_REQUEST,
        {"service_type": "nid-de-poule"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="questions",
    )

    assert 'name="attribute_taille"' in page.text
    assert "<html" not in page.text


def test_a_request_is_created_for_the_caller_opened_and_confirmed_with_its_number(
    laval: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    with schema_context(laval.schema_name):
        caller = CitizenFactory(first_name="Léa", last_name="Roy")
    state_purpose(agent, f"citizen:{caller.pk}", f"{DESK}?citoyen={caller.pk}")
    page = agent.get(NEW_REQUEST, {"citoyen": caller.pk, "service_type": "nid-de-poule"})
    assert "La requête est faite au nom de Léa Roy." in page.text

    response = agent.post(
        NEW_REQUEST,
        {
            "submission": token(page.text),
            "service_type": "nid-de-poule",
            "attribute_taille": "grand",
            "address": "",
            "latitude": "45.57",
            "longitude": "-73.72",
            "channel": "phone",
            "citizen": caller.pk,
            "description": "Trou profond",
        },
    )

    assert _requests() == [
        ("nid-de-poule", "phone", "", Decimal("45.57"), caller.pk, {"taille": "grand"})
    ]
    with schema_context(laval.schema_name):
        number = ServiceRequest.objects.get().number
    assert (response.status_code, response.url) == (302, f"{NEW_REQUEST}{number}/")
    confirmation = agent.get(response.url)
    assert f"Requête {number} créée" in confirmation.text
    assert f'href="/personnel/requetes/{number}/"' in confirmation.text


def test_a_new_caller_s_contact_makes_their_record(
    laval: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    _post(
        agent,
        service_type="arbre",
        channel="counter",
        first_name="Noé",
        last_name="Gagnon",
        phone="450 555-0199",
        email="noe@exemple.qc.ca",
    )

    with schema_context(laval.schema_name):
        created = Citizen.objects.get()
        assert (created.first_name, created.phone, created.email) == (
            "Noé",
            "4505550199",
            "noe@exemple.qc.ca",
        )
    assert _requests() == [("arbre", "counter", "", None, created.pk, {})]


def test_a_citizen_opened_without_a_purpose_is_not_named(
    laval: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    with schema_context(laval.schema_name):
        caller = CitizenFactory(first_name="Léa", last_name="Roy")

    page = agent.get(NEW_REQUEST, {"citoyen": caller.pk})
    _post(agent, service_type="arbre", channel="phone", citizen=caller.pk)

    assert "Léa Roy" not in page.text
    assert _requests() == [("arbre", "phone", "", None, None, {})]


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"service_type": "nid-de-poule", "address": "1, rue Principale"},
            "id_attribute_taille",
            "Le champ « Question",
        ),
        (
            {"service_type": "nid-de-poule", "attribute_taille": "geant", "address": "1, rue A"},
            "id_attribute_taille",
            "« geant » n'est pas un choix possible",
        ),
        (
            {"service_type": "nid-de-poule", "attribute_taille": "petit"},
            "id_address",
            "Ce type de requête demande un lieu",
        ),
        (
            {"service_type": "nid-de-poule", "attribute_taille": "petit", "latitude": "45.5"},
            "id_longitude",
            "Donnez la latitude et la longitude",
        ),
        (
            {"service_type": "arbre", "phone": "555-12"},
            "id_phone",
            "doit compter 10 chiffres",
        ),
        ({"service_type": "arbre", "email": "pas-un-courriel"}, "id_email", "Saisissez"),
        ({"service_type": "inconnu"}, "id_service_type", "Choisissez un type de requête"),
        ({"service_type": "arbre", "channel": "api"}, "id_channel", "Sélectionnez un choix"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_writes_nothing(
    laval: Municipality,
    catalog: dict[str, Any],
    agent: Client,
    fields: dict[str, Any],
    field_id: str,
    message: str,
) -> None:
    response = _post(agent, **({"channel": "phone"} | fields))

    assert response.status_code == 200
    assert "Le formulaire n'a pas été envoyé" in unescape(response.text)
    assert message in unescape(response.text)
    assert f'id="{field_id}_error"' in response.text
    assert _requests() == []
    with schema_context(laval.schema_name):
        assert Citizen.objects.count() == 0


def test_a_double_submission_creates_one_request(catalog: dict[str, Any], agent: Client) -> None:
    fields = {
        "service_type": "arbre",
        "channel": "phone",
        "submission": token(agent.get(NEW_REQUEST).text),
    }

    first = agent.post(NEW_REQUEST, fields)
    second = agent.post(NEW_REQUEST, fields)

    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert len(_requests()) == 1


def test_showing_the_questions_writes_nothing(catalog: dict[str, Any], agent: Client) -> None:
    response = agent.post(
        NEW_REQUEST,
        {
            "service_type": "nid-de-poule",
            "show_questions": "1",
            "address": "1, rue A",
            "submission": token(agent.get(NEW_REQUEST).text),
        },
    )

    assert response.status_code == 200
    assert 'name="attribute_taille"' in response.text
    assert 'value="1, rue A"' in response.text
    assert "Le formulaire n'a pas été envoyé" not in unescape(response.text)
    assert _requests() == []
