"""« Résolu au premier contact »: an information call logged in one step, bad input refused
next to its field, a double submission logged once, and the agent's own rate today."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Citizen, CrmSettings, Interaction, ServiceRequest
from tenants.models import Municipality
from tests.crm.desk.calls_helpers import DESK, LOG_CALL, state_purpose, token
from tests.factories import CitizenFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(desk_client: Callable[..., Client]) -> Client:
    return desk_client("agent")


def _interactions(schema: str = "laval") -> list[tuple[Any, ...]]:
    with schema_context(schema):
        return [
            (
                row.channel,
                row.summary,
                row.citizen_id,
                row.agent_id,
                row.resolved_at_first_contact,
                sorted(row.faq_articles.values_list("pk", flat=True)),
            )
            for row in Interaction.objects.order_by("pk")
        ]


def _post(client: Client, page: str, **fields: Any) -> Any:
    return client.post(LOG_CALL, {"submission": token(client.get(page).text), **fields})


def test_an_answered_call_is_logged_with_its_article_at_first_contact(
    catalog: dict[str, Any], agent: Client
) -> None:
    article = catalog["articles"][0]

    response = _post(
        agent,
        f"{DESK}?q=poule&article={article.pk}",
        article=[article.pk],
        channel="phone",
        summary="Délai de réparation d'un nid-de-poule",
    )

    assert (response.status_code, response.url) == (302, DESK)
    assert _interactions() == [
        ("phone", "Délai de réparation d'un nid-de-poule", None, agent.user.pk, True, [article.pk])
    ]
    page = agent.get(DESK)
    assert "Appel consigné : résolu au premier contact." in page.text
    assert "1 appel sur 1 résolu au premier contact" in page.text


def test_the_caller_opened_is_named_on_the_interaction(
    laval: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    with schema_context(laval.schema_name):
        caller = CitizenFactory()
    article = catalog["articles"][1]  # staff only: agents answer with it too
    state_purpose(agent, f"citizen:{caller.pk}", f"{DESK}?citoyen={caller.pk}")

    _post(
        agent,
        f"{DESK}?citoyen={caller.pk}&article={article.pk}",
        article=[article.pk],
        channel="counter",
        summary="Procédure expliquée",
        citizen=caller.pk,
    )

    assert _interactions() == [
        ("counter", "Procédure expliquée", caller.pk, agent.user.pk, True, [article.pk])
    ]


def test_an_article_linked_to_an_information_type_counts_a_request_closed_at_intake(
    laval: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    with schema_context(laval.schema_name):
        information = ServiceTypeFactory(
            code="info-collectes", kind="information", location_required=False
        )
        article = catalog["articles"][0]
        article.service_types.add(information)
        assert CrmSettings.objects.get().close_information_at_intake is True

    _post(agent, DESK, article=[article.pk], channel="phone", summary="Horaire")

    with schema_context(laval.schema_name):
        counted = ServiceRequest.objects.get()
        assert (counted.service_type, counted.status, counted.first_contact_resolution) == (
            information,
            "closed",
            True,
        )
        assert Interaction.objects.get().request == counted


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"summary": "   "}, "id_summary", "Résumez l'échange."),
        ({"channel": "fax"}, "id_channel", "Sélectionnez un choix valide."),
        ({"article": []}, None, "Choisissez l'article de la banque d'information"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_writes_nothing(
    laval: Municipality,
    catalog: dict[str, Any],
    agent: Client,
    fields: dict[str, Any],
    field_id: str | None,
    message: str,
) -> None:
    article = catalog["articles"][0]
    posted = {"article": [article.pk], "channel": "phone", "summary": "Question", "q": "poule"}

    response = _post(agent, DESK, **(posted | fields))

    assert response.status_code == 200
    assert "Le formulaire n'a pas été envoyé" in response.text
    assert message in unescape(response.text)
    if field_id:
        assert f'id="{field_id}_error"' in response.text
        assert f'aria-describedby="{field_id}_error"' in response.text or (
            f'{field_id}_error"' in response.text and 'aria-invalid="true"' in response.text
        )
    assert "Quand répare-t-on les nids-de-poule?" in response.text  # the search is kept
    assert _interactions() == []
    with schema_context(laval.schema_name):
        assert ServiceRequest.objects.count() == 0


def test_a_citizen_of_another_town_cannot_be_named(
    levis: Municipality, catalog: dict[str, Any], agent: Client
) -> None:
    with schema_context(levis.schema_name):
        elsewhere = CitizenFactory()
    with schema_context("laval"):
        assert not Citizen.objects.filter(pk=elsewhere.pk).exists()
    article = catalog["articles"][0]

    response = _post(
        agent, DESK, article=[article.pk], channel="phone", summary="Q", citizen=elsewhere.pk
    )

    assert response.status_code == 200
    assert f"La fiche de citoyen {elsewhere.pk} n'existe pas." in unescape(response.text)
    assert _interactions() == []


def test_a_double_submission_logs_the_call_once(catalog: dict[str, Any], agent: Client) -> None:
    article = catalog["articles"][0]
    fields = {
        "article": [article.pk],
        "channel": "phone",
        "summary": "Q",
        "submission": token(agent.get(DESK).text),
    }

    first = agent.post(LOG_CALL, fields)
    second = agent.post(LOG_CALL, fields)

    assert (first.status_code, second.status_code) == (302, 302)
    assert second.url == DESK
    assert len(_interactions()) == 1


def test_the_rate_counts_only_this_agent_s_calls_of_today(
    laval: Municipality, catalog: dict[str, Any], agent: Client, desk_client: Callable[..., Client]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from crm.services import interaction_record

    other = desk_client("agent")
    article = catalog["articles"][0]
    _post(agent, DESK, article=[article.pk], channel="phone", summary="Q1")
    _post(other, DESK, article=[article.pk], channel="phone", summary="Q2")
    with schema_context(laval.schema_name):
        interaction_record(actor=agent.user, channel="phone", summary="Suivi")
        interaction_record(
            actor=agent.user,
            channel="phone",
            summary="Hier",
            resolved_at_first_contact=True,
            now=timezone.now() - timedelta(days=2),
        )

    page = agent.get(DESK)

    assert "1 appels sur 2 résolus au premier contact" in page.text or (
        "1 appel sur 2" in page.text
    )
    assert "<strong>50 %</strong>" in page.text
