"""The information bank and the catalog in Chromium: an administrator edits an article (a
preview first, then the save; the new version appears with its differences), and every page
of the section passes axe at WCAG 2.1 A/AA in French and in English."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Department, ServiceCategory, ServiceType
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

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

CODE = "e2e-banque"
QUESTION = "Quand passe la collecte des feuilles mortes?"


def _create_items(ids: dict[str, int]) -> None:
    with schema_context(TOWN):
        department = Department.objects.create(code=CODE, name_fr="Environnement (essai)")
        category = ServiceCategory.objects.create(code=CODE, name_fr="Collectes (essai)")
        service_type = ServiceType.objects.create(
            code=CODE,
            name_fr="Feuilles mortes (essai)",
            category=category,
            department=department,
        )
        question = service_type.attributes.create(
            code="quantite", label_fr="Combien de sacs?", datatype="number", order=0
        )
        article = faq_article_create(
            actor=None,
            question_fr=QUESTION,
            answer_fr="Le lundi, du 15 octobre au 30 novembre.",
            question_en="When are dead leaves collected?",
            answer_en="On Mondays, from October 15 to November 30.",
            category=category,
            owner_department=department,
            status="published",
            review_on=timezone.localdate() - datetime.timedelta(days=2),
        )
        ids.update(article=article.pk, service_type=service_type.pk, question=question.pk)


def _pages(ids: dict[str, int]) -> list[str]:
    return [
        reverse("desk:bank"),
        reverse("desk:bank_article", args=[ids["article"]]),
        reverse("desk:bank_article_edit", args=[ids["article"]]),
        reverse("desk:bank_versions", args=[ids["article"]]),
        reverse("desk:bank_review"),
        reverse("desk:catalog"),
        reverse("desk:catalog_type", args=[ids["service_type"]]),
        reverse("desk:catalog_question_delete", args=[ids["service_type"], ids["question"]]),
        reverse("desk:catalog_upstream"),
        reverse("desk:catalog_settings"),
    ]


def test_an_administrator_edits_an_article_with_a_preview_and_sees_its_diff(
    page: Any, live_port: int
) -> None:
    ids: dict[str, int] = {}
    committed(remove_e2e_catalog)
    committed(lambda: _create_items(ids))
    try:
        with desk_account("e2e-banque@laval.localhost", "administrator") as admin:
            sign_in(page, live_port, admin, path="/personnel/banque-information/")
            page.get_by_label("Rechercher dans la banque").fill("feuilles mortes")
            page.get_by_role("button", name="Rechercher").click()
            expect(page.get_by_role("link", name=QUESTION)).to_be_visible()
            document(page, "bank-search")

            page.get_by_role("link", name=QUESTION).click()
            document(page, "bank-article")
            page.get_by_role("link", name="Modifier").click()

            # A French question left empty: the message sits next to the field.
            page.get_by_label("Question (français)").fill("")
            page.get_by_role("button", name="Enregistrer").click()
            expect(page.get_by_role("alert")).to_contain_text("Question (français)")
            expect(page.get_by_label("Question (français)")).to_have_attribute(
                "aria-invalid", "true"
            )
            assert axe_violations(page) == []
            document(page, "bank-edit-errors")

            page.get_by_label("Question (français)").fill(QUESTION)
            page.get_by_label("Réponse (français)").fill("Le mardi, du 15 octobre au 30 novembre.")
            page.get_by_role("button", name="Prévisualiser").click()
            preview = page.get_by_role("region", name="Aperçu")
            expect(preview).to_contain_text("Le mardi, du 15 octobre au 30 novembre.")
            document(page, "bank-preview")
            page.get_by_role("button", name="Enregistrer").click()

            expect(page.get_by_role("status")).to_contain_text("Article enregistré : version 2.")
            page.get_by_role("link", name="Versions et différences").click()
            expect(
                page.get_by_role("heading", name="Ce qui a changé de la version 1 à la version 2")
            ).to_be_visible()
            expect(page.locator("del").first).to_contain_text("lundi,")
            expect(page.locator("ins").first).to_contain_text("mardi,")
            document(page, "bank-versions")

            with translation.override("fr"):
                screenshots = {
                    reverse("desk:catalog"): "catalog-list",
                    reverse("desk:catalog_type", args=[ids["service_type"]]): "catalog-type",
                    reverse(
                        "desk:catalog_question_delete", args=[ids["service_type"], ids["question"]]
                    ): "catalog-remove",
                    reverse("desk:catalog_upstream"): "catalog-upstream",
                    reverse("desk:catalog_settings"): "catalog-settings",
                }
            for language in ("fr", "en"):
                with translation.override(language):
                    urls = _pages(ids)
                for url in urls:
                    page.goto(f"http://{HOST}:{live_port}{url}")
                    expect(page.locator("h1")).to_be_visible()
                    assert axe_violations(page) == [], url
                    if language == "fr" and url in screenshots:
                        document(page, screenshots[url])
            with translation.override("fr"):
                page.goto(f"http://{HOST}:{live_port}{reverse('desk:bank_review')}")
            expect(page.get_by_role("link", name=QUESTION)).to_be_visible()
            document(page, "bank-review")
    finally:
        committed(remove_e2e_catalog)
