"""The 311 desk in Chromium: an agent logs an information call in three actions, creates a
request for a caller with the map, and does the main flow with the keyboard alone; axe finds
no WCAG 2.1 A/AA violation in any state of the desk, in French and in English."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Citizen, Department
from crm.services import faq_article_create
from tests.e2e.desk import (
    HOST,
    TOWN,
    axe_violations,
    desk_account,
    document,
    remove_e2e_catalog,
    sign_in,
)
from tests.e2e.test_accessibility import committed
from tests.factories import ServiceAttributeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

DEPARTMENT = "e2e-appels"
# Not CITIZEN_DOMAIN: each desk account's clean-up removes those, and the caller must exist first.
CALLER_EMAIL = "helene@appels.e2e.exemple.qc.ca"
# A transparent pixel: the map's tiles, served without reaching the tile server.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _remove_catalog() -> None:
    remove_e2e_catalog()
    with schema_context(TOWN), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        Citizen.objects.filter(email=CALLER_EMAIL).delete()


def _create_catalog() -> None:
    with schema_context(TOWN):
        department = Department.objects.create(code=DEPARTMENT, name_fr="Travaux publics (essai)")
        ServiceAttributeFactory(
            service_type__code="e2e-appels-nid",
            service_type__name_fr="Nid-de-poule (essai)",
            service_type__department=department,
            service_type__category__code="e2e-appels",
            code="taille",
            label_fr="Taille du trou",
            datatype="singlevaluelist",
            required=True,
            choices=["petit", "grand"],
        )
        faq_article_create(
            actor=None,
            question_fr="Quand passe la collecte des feuilles mortes?",
            answer_fr="Chaque lundi d'octobre et de novembre, devant votre adresse.",
            question_en="When are dead leaves collected?",
            answer_en="Every Monday in October and November.",
            status="published",
            audience="public",
            owner_department=department,
        )
        faq_article_create(
            actor=None,
            question_fr="Procédure interne : collecte des feuilles oubliée",
            answer_fr="Créez une requête « collecte manquée » et avisez le contremaître.",
            question_en="Internal procedure: missed leaf collection",
            answer_en="File a missed-collection request and tell the foreman.",
            status="published",
            audience="agents",
            owner_department=department,
        )
        Citizen.objects.create(
            first_name="Hélène",
            last_name="Bérubé",
            email=CALLER_EMAIL,
            phone="4505550142",
            address="12, rue des Érables",
        )


@pytest.fixture
def desk_catalog() -> Iterator[None]:
    committed(_remove_catalog)
    committed(_create_catalog)
    yield
    committed(_remove_catalog)


@pytest.fixture
def desk_page(page: Any) -> Any:
    page.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL),
    )
    return page


def _no_violations(page: Any, states: list[str], name: str) -> None:
    found = axe_violations(page)
    states.append(name)
    assert found == [], f"{name}: {found}"


def test_an_agent_logs_an_information_call_in_three_actions(desk_page, live_port, desk_catalog):
    page = desk_page
    states: list[str] = []
    with desk_account("e2e-appel@laval.localhost", "agent") as agent:
        sign_in(page, live_port, agent)
        _no_violations(page, states, "empty desk")
        document(page, "desk-empty")
        actions = 0

        page.get_by_label("Question de l'appelant").fill("feuilles mortes")
        actions += 1
        results = page.locator("#resultats-banque")
        expect(
            results.get_by_role("heading", name="Quand passe la collecte des feuilles mortes?")
        ).to_be_visible()
        expect(results).to_contain_text("Chaque lundi d'octobre")
        expect(results).to_contain_text("Personnel seulement")  # the agents' article too
        _no_violations(page, states, "bank results")
        document(page, "desk-bank-results")

        results.get_by_role("button", name="Répondu avec cet article").first.click()
        actions += 1
        expect(page.get_by_label("Résumé de l'appel")).to_have_value(
            "Question répondue : Quand passe la collecte des feuilles mortes?"
        )
        _no_violations(page, states, "article chosen")
        document(page, "desk-article-chosen")

        page.get_by_role("button", name="Consigner l'appel").click()
        actions += 1
        expect(page.get_by_role("status").first).to_contain_text(
            "Appel consigné : résolu au premier contact."
        )
        expect(page.locator(".taux")).to_contain_text("1 appel sur 1")
        _no_violations(page, states, "call logged")
        document(page, "desk-call-logged")

        assert actions <= 3

        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/en/staff/")
        _no_violations(page, states, "English desk")
        page.goto(f"http://{HOST}:{live_port}/en/staff/?q=feuilles")
        expect(page.locator("#resultats-banque article").first).to_be_visible()
        _no_violations(page, states, "English bank results")
    assert len(states) == 6


def test_an_agent_creates_a_request_for_a_citizen(desk_page, live_port, desk_catalog):
    page = desk_page
    states: list[str] = []
    with desk_account("e2e-requete@laval.localhost", "agent") as agent:
        sign_in(page, live_port, agent)

        page.get_by_label("Trouver l'appelant").fill("berube")
        caller_panel = page.locator("#resultats-citoyens")
        expect(caller_panel).to_contain_text("Motif de la recherche")
        _no_violations(page, states, "search purpose")
        document(page, "desk-purpose")
        caller_panel.get_by_label(
            "Réponse à un appel, un courriel ou une visite du citoyen"
        ).check()
        caller_panel.get_by_role("button", name="Afficher").click()

        page.get_by_role("link", name="Hélène Bérubé").click()
        page.get_by_label("Traitement d'une requête du citoyen").check()
        page.get_by_role("button", name="Afficher").click()
        expect(page.get_by_role("heading", name="Appelant : Hélène Bérubé")).to_be_visible()
        _no_violations(page, states, "citizen record")
        document(page, "desk-citizen-record")

        page.get_by_role("link", name="Créer une requête pour Hélène Bérubé").click()
        expect(page.get_by_role("heading", name="Créer une requête", level=1)).to_be_visible()
        expect(page.get_by_text("La requête est faite au nom de Hélène Bérubé.")).to_be_visible()
        type_field = page.get_by_label("Type de requête")
        type_field.fill("e2e-appels-nid")
        type_field.press("Tab")  # leaving the field shows the type's questions (htmx)
        page.get_by_label("Grand").check()
        page.locator("#carte").click(position={"x": 120, "y": 90})
        expect(page.get_by_label("Latitude")).not_to_have_value("")
        _no_violations(page, states, "request form")
        document(page, "desk-new-request")

        page.get_by_role("button", name="Créer la requête").click()
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text("créée")
        number = heading.inner_text().split()[1]
        expect(page.get_by_role("link", name=f"Ouvrir la requête {number}")).to_have_attribute(
            "href", f"/personnel/requetes/{number}/"
        )
        _no_violations(page, states, "request created")
        document(page, "desk-request-created")

        page.goto(
            f"http://{HOST}:{live_port}/en/staff/nouvelle-requete/?service_type=e2e-appels-nid"
        )
        _no_violations(page, states, "English request form")

        with schema_context(TOWN):
            from crm.models import ServiceRequest

            created = ServiceRequest.objects.get(number=number)
            assert created.citizen.email == CALLER_EMAIL
            assert created.attributes == {"taille": "grand"}
            assert created.latitude is not None


def test_the_desk_s_main_flow_works_with_the_keyboard_alone(desk_page, live_port, desk_catalog):
    page = desk_page
    with desk_account("e2e-clavier@laval.localhost", "agent") as agent:
        sign_in(page, live_port, agent)

        def tab_to(selector: str) -> None:
            for _ in range(60):
                page.keyboard.press("Tab")
                if page.evaluate(f"document.activeElement.matches({selector!r})"):
                    return
            raise AssertionError(f"Tab never reached {selector}")

        tab_to("input[name=q]")
        page.keyboard.type("feuilles mortes")
        expect(page.locator("#resultats-banque article").first).to_be_visible()
        tab_to("#resultats-banque button")
        page.keyboard.press("Enter")
        page.wait_for_url("**article=*")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Consigner l'appel"
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").first).to_contain_text("Appel consigné")
