"""Finding the caller on the desk: accents and case folded, a purpose first (Law 25), every
search and record logged, a fixed number of queries, and nothing of another town."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import Citizen
from crm.services import information_call_answer
from tenants.models import Municipality
from tests.crm.desk.calls_helpers import DESK, access_rows, counted, state_purpose
from tests.factories import CitizenFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db

CALL = "Réponse à un appel, un courriel ou une visite du citoyen"


@pytest.fixture
def helene(laval: Municipality) -> Citizen:
    with schema_context(laval.schema_name):
        return CitizenFactory(
            first_name="Hélène",
            last_name="Bérubé",
            email="helene.berube@exemple.qc.ca",
            phone="4505551234",
            address="12, rue des Érables",
        )


@pytest.fixture
def agent(desk_client: Callable[..., Client]) -> Client:
    return desk_client("agent")


def test_a_search_asks_the_purpose_first_and_shows_nobody_until_then(
    helene: Citizen, agent: Client
) -> None:
    response = agent.get(DESK, {"appelant": "berube"})

    assert response.status_code == 200
    assert "Motif de la recherche" in response.text
    assert 'value="citizens"' in response.text
    assert "Bérubé" not in response.text
    assert access_rows() == []


@pytest.mark.parametrize(
    "query",
    [
        "berube",
        "BÉRUBÉ",
        "hélène bérubé",
        "Helene",
        "HELENE.BERUBE@",
        "450 555-1234",
        "(450) 555 1234",
        "5551234",
        "rue des erables",
    ],
)
def test_a_caller_is_found_by_name_phone_email_or_address_whatever_the_accents_and_case(
    helene: Citizen, agent: Client, query: str
) -> None:
    state_purpose(agent, "citizens")

    response = agent.get(DESK, {"appelant": query})

    assert response.status_code == 200
    assert "1 fiche trouvée" in response.text
    assert (
        f"?appelant={query.replace(' ', '+')}"
        in response.text.replace("%40", "@").replace("%28", "(").replace("%29", ")")
        or f"citoyen={helene.pk}" in response.text
    )
    assert f"citoyen={helene.pk}" in response.text


def test_a_search_is_logged_with_the_purpose_given_for_lists(
    helene: Citizen, agent: Client
) -> None:
    state_purpose(agent, "citizens")

    agent.get(DESK, {"appelant": "berube"})
    agent.get(DESK, {"appelant": "personne-inconnue"})

    assert access_rows() == [(None, CALL, "desk", "1 fiche(s), recherche « berube »")]


def test_the_search_as_you_type_answers_with_its_panel_only(helene: Citizen, agent: Client) -> None:
    state_purpose(agent, "citizens")

    response = agent.get(
        DESK, {"appelant": "bérubé"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats-citoyens"
    )

    assert response.status_code == 200
    assert "Hélène Bérubé" in response.text
    assert "<html" not in response.text
    assert "Banque d'information" not in response.text


def test_opening_a_caller_asks_the_purpose_for_that_record_then_shows_and_logs_it(
    laval: Municipality, helene: Citizen, agent: Client
) -> None:
    with schema_context(laval.schema_name):
        service_request = ServiceRequestFactory(citizen=helene)
        information_call_answer(
            actor=None,
            channel="phone",
            summary="Horaire des collectes",
            faq_articles=[],
            citizen=helene,
        )
    opened = f"{DESK}?citoyen={helene.pk}"

    asked = agent.get(opened)
    stated = state_purpose(agent, f"citizen:{helene.pk}", opened, reason="request")
    shown = agent.get(opened)

    assert "Motif de la consultation de la fiche" in asked.text
    assert "helene.berube@exemple.qc.ca" not in asked.text
    assert (stated.status_code, stated.url) == (302, opened)
    assert "Appelant : Hélène Bérubé" in shown.text
    assert "helene.berube@exemple.qc.ca" in shown.text
    assert f"/personnel/requetes/{service_request.number}/" in shown.text
    assert "Horaire des collectes" in shown.text
    assert access_rows() == [
        (
            helene.pk,
            "Traitement d'une requête du citoyen",
            "desk",
            "Accueil 311 : fiche, requêtes et interactions",
        )
    ]
    # The purpose is for that record only.
    with schema_context(laval.schema_name):
        other = CitizenFactory(first_name="Autre")
    assert "Motif de la consultation de la fiche" in agent.get(f"{DESK}?citoyen={other.pk}").text


def test_an_invalid_purpose_is_refused_next_to_its_field_and_opens_nothing(
    helene: Citizen, agent: Client
) -> None:
    opened = f"{DESK}?citoyen={helene.pk}"

    refused = state_purpose(agent, f"citizen:{helene.pk}", opened, reason="other", details="")

    assert refused.status_code == 200
    assert "Précisez le motif." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "Motif de la consultation de la fiche" in agent.get(opened).text
    assert access_rows() == []


def test_a_purpose_sends_back_only_to_the_desk(helene: Citizen, agent: Client) -> None:
    stated = state_purpose(agent, "citizens", "https://ailleurs.example/piege")

    assert (stated.status_code, stated.url) == (302, DESK)


def test_a_levis_desk_finds_nothing_of_laval(
    levis: Municipality, helene: Citizen, desk_client: Callable[..., Client]
) -> None:
    levis_agent = desk_client("agent", town=levis)
    state_purpose(levis_agent, "citizens")
    state_purpose(levis_agent, f"citizen:{helene.pk}", f"{DESK}?citoyen={helene.pk}")

    found = levis_agent.get(DESK, {"appelant": "bérubé"})
    opened = levis_agent.get(DESK, {"citoyen": helene.pk})

    assert "Aucune fiche trouvée." in found.text
    assert "Bérubé" not in found.text
    assert "Cette fiche de citoyen n'existe pas" in opened.text
    assert "helene" not in opened.text
    assert access_rows("levis") == []


def _search_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            DESK,
            {"appelant": "tremblay"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="resultats-citoyens",
        )
    assert response.status_code == 200
    return counted(queries)


def _record_queries(client: Client, pk: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DESK, {"citoyen": pk})
    assert "Appelant :" in response.text
    return counted(queries)


def test_the_search_and_the_record_cost_the_same_queries_for_2_or_20_rows(
    laval: Municipality, agent: Client
) -> None:
    with schema_context(laval.schema_name):
        few = CitizenFactory.create_batch(2, last_name="Tremblay")
        for _ in range(2):
            ServiceRequestFactory(citizen=few[0])
    state_purpose(agent, "citizens")
    state_purpose(agent, f"citizen:{few[0].pk}", f"{DESK}?citoyen={few[0].pk}")
    searched_few, opened_few = _search_queries(agent), _record_queries(agent, few[0].pk)

    with schema_context(laval.schema_name):
        CitizenFactory.create_batch(18, last_name="Tremblay")
        for _ in range(18):
            ServiceRequestFactory(citizen=few[0])
            information_call_answer(
                actor=None, channel="phone", summary="Appel", faq_articles=[], citizen=few[0]
            )

    assert _search_queries(agent) == searched_few
    assert _record_queries(agent, few[0].pk) == opened_few
