"""The information bank on the desk: searched as you type, staff-only articles included, the
answer readable, a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.crm.desk.calls_helpers import DESK, counted
from tests.factories import FaqArticleFactory

pytestmark = pytest.mark.django_db


def test_staff_find_public_and_staff_only_articles_with_their_answers(
    catalog: dict[str, Any], desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent").get(DESK, {"q": "nids de poule"})

    assert response.status_code == 200
    assert "2 articles trouvés" in response.text
    assert "Quand répare-t-on les nids-de-poule?" in response.text
    assert "En cinq jours ouvrables." in response.text
    assert "Procédure interne des nids-de-poule" in response.text
    assert "Personnel seulement" in response.text
    assert response.text.count(">Répondu avec cet article</button>") == 2


def test_the_bank_as_you_type_answers_with_its_panel_only(
    catalog: dict[str, Any], desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent").get(
        DESK, {"q": "poule"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats-banque"
    )

    assert response.status_code == 200
    assert "Quand répare-t-on les nids-de-poule?" in response.text
    assert "<html" not in response.text
    assert "Trouver l'appelant" not in response.text


def test_choosing_an_article_fills_the_call_log(
    catalog: dict[str, Any], desk_client: Callable[..., Client]
) -> None:
    article = catalog["articles"][0]

    response = desk_client("agent").get(DESK, {"q": "poule", "article": article.pk})

    assert f'name="article" value="{article.pk}"' in response.text
    assert "checked" in response.text
    assert "Question répondue : Quand répare-t-on les nids-de-poule?" in response.text
    assert "autofocus" in response.text


def test_a_levis_desk_finds_none_of_laval_s_articles(
    catalog: dict[str, Any], levis: Municipality, desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent", town=levis).get(DESK, {"q": "nids de poule"})

    assert "Aucun article trouvé" in response.text
    assert "Quand répare-t-on" not in response.text


def _bank_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            DESK, {"q": "collecte"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="resultats-banque"
        )
    assert "Répondu avec cet article" in response.text
    return counted(queries)


def test_the_bank_search_costs_the_same_queries_for_2_or_20_articles(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("agent")
    with schema_context(laval.schema_name):
        for number in range(2):
            FaqArticleFactory(question_fr=f"Collecte des déchets {number}")
    few = _bank_queries(client)

    with schema_context(laval.schema_name):
        for number in range(18):
            FaqArticleFactory(question_fr=f"Collecte du recyclage {number}", audience="agents")

    assert _bank_queries(client) == few
