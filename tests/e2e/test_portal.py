"""The citizen portal in Chromium: a citizen finds an answer as they type (and without
JavaScript, and with the keyboard alone), says whether it helped, and follows a request by the
e-mail's link or by its number and code; axe (WCAG 2.1 A/AA) on every portal page, in French
and English.

Screenshots for docs/portal.md: `RELAIS_DOC_SCREENSHOTS=1 make pytest PYTEST_ARGS="-m e2e
tests/e2e/test_portal.py"` writes them to docs/portal/."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from crm.models import RequestAttachment
from tests.e2e.desk import CITIZEN_DOMAIN, HOST, TOWN, axe_violations
from tests.e2e.portal import _png, document
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


def test_a_citizen_finds_an_answer_as_they_type_and_says_it_helped(page, live_port, portal_town):
    page.goto(_url(live_port, "/"))
    assert axe_violations(page) == []
    document(page, "home")

    page.get_by_label("Rechercher une réponse").fill("collecte ordures")
    result = page.locator("#resultats-reponses").get_by_role(
        "link", name="Quand passe la collecte des ordures ménagères?"
    )
    result.wait_for()
    assert page.locator("#etat-recherche").text_content() in {
        "1 réponse trouvée",
        "2 réponses trouvées",
    }
    assert axe_violations(page) == []
    document(page, "home-search")

    result.click()
    page.wait_for_url("**/reponses/*-quand-passe-la-collecte-des-ordures-menageres/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Quand passe la collecte des ordures ménagères?"
    )
    assert axe_violations(page) == []
    document(page, "answer")

    page.get_by_role("button", name="Oui").click()
    page.get_by_text("Merci! Votre avis aide la Ville à améliorer ses réponses.").wait_for()
    assert page.get_by_role("button", name="Oui").count() == 0
    assert axe_violations(page) == []


def test_the_answers_work_without_javascript_and_with_the_keyboard(browser, live_port, portal_town):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(_url(live_port, "/reponses/"))
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Enter")
        search = page.get_by_label("Rechercher une réponse")
        search.focus()
        page.keyboard.type("recyclage")
        page.keyboard.press("Enter")
        page.wait_for_url("**/reponses/?q=recyclage")
        link = page.get_by_role("link", name="Que mettre dans le bac de recyclage?")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/reponses/*-que-mettre-dans-le-bac-de-recyclage/")
        page.get_by_role("button", name="Non").focus()
        page.keyboard.press("Enter")
        page.get_by_text("l'équipe responsable révisera cette réponse").wait_for()
        assert page.get_by_label("Rechercher une réponse").count() == 1  # search again
        document(page, "answer-not-helpful")
    finally:
        context.close()


def test_the_answers_in_english(page, live_port, portal_town):
    page.goto(_url(live_port, "/en/"))
    page.get_by_label("Search for an answer").fill("garbage")
    page.locator("#resultats-reponses").get_by_role(
        "link", name="When is household garbage collected?"
    ).click()
    page.wait_for_url("**/en/answers/*-when-is-household-garbage-collected/")
    assert "Garbage is collected every Tuesday." in page.locator("article").inner_text()
    assert axe_violations(page) == []
    page.goto(_url(live_port, "/en/answers/"))
    assert axe_violations(page) == []


def test_a_citizen_follows_a_request_by_its_link_or_its_number_and_code(
    page, live_port, portal_town
):
    number, token = portal_town["number"], portal_town["token"]
    page.goto(_url(live_port, f"/suivi/{number}/?jeton={token}"))
    assert page.get_by_role("heading", level=1).inner_text() == f"Demande {number}"
    assert "Reçue : votre demande attend d'être prise en charge." in page.inner_text("main")
    assert "Une équipe passera d'ici vendredi." in page.inner_text("main")
    assert axe_violations(page) == []
    document(page, "tracked")

    page.goto(_url(live_port, "/suivi/"))
    assert axe_violations(page) == []
    page.get_by_label("Numéro de la demande").fill(number)
    page.get_by_label("Code de suivi").fill("pas-le-bon-code")
    page.get_by_role("button", name="Voir la demande").click()
    page.get_by_text("Aucune demande ne correspond à ce numéro").wait_for()
    assert axe_violations(page) == []
    document(page, "track-error")

    page.get_by_label("Code de suivi").fill(token)
    page.get_by_role("button", name="Voir la demande").click()
    page.wait_for_url(f"**/suivi/{number}/?jeton={token}")

    page.goto(_url(live_port, f"/en/track/{number}/?jeton={token}"))
    assert "Received: your request is waiting to be taken on." in page.inner_text("main")
    assert axe_violations(page) == []
    page.goto(_url(live_port, "/en/track/"))
    assert axe_violations(page) == []


def test_a_citizen_reports_a_pothole_with_the_keyboard_and_follows_it(page, live_port, portal_town):
    page.goto(_url(live_port, "/signaler/"))
    assert axe_violations(page) == []
    document(page, "report-choose")
    link = page.get_by_role("link", name="Nid-de-poule")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/signaler/e2e-nid-de-poule/")
    assert axe_violations(page) == []

    # Sent without the place the type requires: the refusal is next to the field, nothing lost.
    page.get_by_label("Décrivez la situation").fill("Un trou profond devant l'école.")
    page.get_by_role("button", name="Envoyer la demande").focus()
    page.keyboard.press("Enter")
    page.locator("#erreurs").wait_for()
    assert page.get_by_label("Décrivez la situation").input_value() == (
        "Un trou profond devant l'école."
    )
    assert axe_violations(page) == []
    document(page, "report-errors")

    page.get_by_label("Adresse ou lieu").fill("45, boulevard des Laurentides")
    page.get_by_label("Photos (facultatives)").set_input_files(
        files=[{"name": "trou.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_label("Courriel").fill(f"lea@{CITIZEN_DOMAIN}")
    document(page, "report-form")
    page.get_by_label("Courriel").press("Enter")
    page.wait_for_url("**/suivi/*/?jeton=*")
    assert "est reçue" in page.inner_text("main")
    assert "Un trou profond devant l'école." in page.inner_text("main")
    assert axe_violations(page) == []
    document(page, "report-done")
    number = page.url.split("/suivi/")[1].split("/")[0]
    with schema_context(TOWN):
        photos = RequestAttachment.objects.filter(request__number=number)
        assert [photo.original_name for photo in photos] == ["photo-1.jpg"]


def test_the_report_in_english(page, live_port, portal_town):
    page.goto(_url(live_port, "/en/report/"))
    page.get_by_role("link", name="Pothole").click()
    page.wait_for_url("**/en/report/e2e-nid-de-poule/")
    assert page.get_by_role("heading", level=1).inner_text() == "Report: Pothole"
    assert axe_violations(page) == []


def test_a_citizen_rates_a_resolved_request_with_the_keyboard(page, live_port, portal_town):
    page.goto(_url(live_port, portal_town["resolved"]))
    assert "Résolue : l'équipe responsable a réglé la situation." in page.inner_text("main")
    assert axe_violations(page) == []
    document(page, "survey")
    page.get_by_label("4 — Satisfait").focus()
    page.keyboard.press("Space")
    page.get_by_label("Un commentaire? (facultatif)").fill("Réglé en deux jours, merci.")
    page.get_by_role("button", name="Envoyer mon avis").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Merci d'avoir donné votre avis : 4 sur 5.").wait_for()
    assert axe_violations(page) == []


def test_a_citizen_keeps_their_details_and_preferences_in_their_account(
    page, live_port, citizen_account
):
    page.goto(_url(live_port, "/mon-compte/"))
    page.wait_for_url("**/comptes/login/?next=/mon-compte/")
    page.get_by_label("Courriel").fill(citizen_account)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/mon-compte/")
    assert axe_violations(page) == []

    page.get_by_label("Téléphone").fill("555")
    page.get_by_role("button", name="Enregistrer mes coordonnées").click()
    page.locator("#erreurs").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Téléphone").fill("450 555-1234")
    page.get_by_role("button", name="Enregistrer mes coordonnées").click()
    page.get_by_text("Vos coordonnées sont enregistrées.").wait_for()

    page.locator("#preferences").get_by_role("group", name="Alertes municipales").get_by_label(
        "Par texto"
    ).check()
    page.get_by_role("button", name="Enregistrer mes préférences").click()
    page.get_by_text("Vos préférences de communication sont enregistrées.").wait_for()
    assert "Accordé, par texto" in page.inner_text("#preferences")
    assert axe_violations(page) == []
    document(page, "account")

    page.goto(_url(live_port, "/en/my-account/"))
    assert page.get_by_role("heading", level=1).inner_text() == "My account"
    assert axe_violations(page) == []
