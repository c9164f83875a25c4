"""The citizen portal's journeys end to end in Chromium: a citizen searches an answer, reports
a pothole placed on the map with a photo, receives the e-mail at a real SMTP server on loopback
and follows the request by its link (in French and in English); a second person is offered the
open request nearby and follows it instead of reporting it again; a citizen chooses their
alerts with the keyboard alone and a supervisor publishes one; the privacy pages. axe (WCAG 2.1
A/AA) on each page, in both languages.

Screenshots for docs/portal.md: `RELAIS_DOC_SCREENSHOTS=1 make pytest PYTEST_ARGS="-m e2e
tests/e2e/test_portal_journeys.py"`."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Alert, RequestSubscription, ServiceRequest
from crm.roles import SUPERVISOR
from tests.e2e.desk import CITIZEN_DOMAIN, HOST, TOWN, axe_violations, desk_account, sign_in
from tests.e2e.portal import _png, citizen_account_of, document
from tests.e2e.test_accessibility import committed
from tests.factories import TEST_PASSWORD
from tests.smtp import Mailbox, body_text, smtp_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

E2E_ALERT = "E2E "


def _url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


@pytest.fixture
def mailbox(live_port: int) -> Iterator[Mailbox]:
    """A real SMTP server on loopback receiving what the live server sends; the links in the
    messages lead to the live server."""
    with smtp_server() as box, override_settings(**box.settings(), RELAIS_PUBLIC_PORT=live_port):
        yield box


def _mail_to(mailbox: Mailbox, address: str) -> Any:
    deadline = time.monotonic() + 15
    while not mailbox.to(address) and time.monotonic() < deadline:
        time.sleep(0.1)
    (message,) = mailbox.to(address)
    return message


def _place_on_map(page: Any, x: int, y: int) -> None:
    page.locator("#carte.leaflet-container").wait_for()
    page.locator("#carte").click(position={"x": x, "y": y})
    expect(page.locator("#id_latitude")).not_to_have_value("")


def test_a_citizen_reports_on_the_map_receives_the_email_and_follows_its_link(
    page, live_port, portal_town, mailbox
):
    email = f"lea.map@{CITIZEN_DOMAIN}"
    page.goto(_url(live_port, "/"))
    page.get_by_label("Rechercher une réponse").fill("collecte ordures")
    page.locator("#resultats-reponses").get_by_role(
        "link", name="Quand passe la collecte des ordures ménagères?"
    ).click()
    page.wait_for_url("**/reponses/*/")

    page.goto(_url(live_port, "/signaler/e2e-nid-de-poule/"))
    _place_on_map(page, 60, 60)
    page.get_by_label("Décrivez la situation").fill("Un trou profond <b>près</b> du parc.")
    page.get_by_label("Photos (facultatives)").set_input_files(
        files=[{"name": "trou.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_label("Courriel").fill(email)
    assert axe_violations(page) == []
    document(page, "report-map")
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_url("**/suivi/*/?jeton=*")
    number = page.url.split("/suivi/")[1].split("/")[0]

    message = _mail_to(mailbox, email)
    assert number in message["Subject"]
    assert "Laval" in message["From"]
    text = body_text(message)
    link = re.search(r"http://\S+/suivi/\S+", text).group(0)
    assert urlsplit(link).port == live_port
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == f"Demande {number}"
    assert "<b>près</b>" in page.inner_text("main")  # what the citizen typed, shown inert
    assert axe_violations(page) == []
    with schema_context(TOWN):
        placed = ServiceRequest.objects.get(number=number)
        assert placed.latitude is not None
        assert placed.attachments.count() == 1


def test_the_same_in_english(page, live_port, portal_town, mailbox):
    email = f"lea.en@{CITIZEN_DOMAIN}"
    page.goto(_url(live_port, "/en/"))
    page.get_by_label("Search for an answer").fill("garbage")
    page.locator("#resultats-reponses").get_by_role(
        "link", name="When is household garbage collected?"
    ).click()
    page.wait_for_url("**/en/answers/*/")

    page.goto(_url(live_port, "/en/report/e2e-nid-de-poule/"))
    _place_on_map(page, 60, 60)
    page.get_by_label("Describe the situation").fill("A deep hole near the park.")
    page.get_by_label("Email").fill(email)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_url("**/en/track/*/?jeton=*")

    message = _mail_to(mailbox, email)
    link = re.search(r"http://\S+/en/track/\S+", body_text(message)).group(0)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Request ")
    assert axe_violations(page) == []


def test_enter_in_a_field_sends_the_report_even_with_requests_nearby(page, live_port, portal_town):
    email = f"entree@{CITIZEN_DOMAIN}"
    page.goto(_url(live_port, "/signaler/e2e-nid-de-poule/"))
    box = page.locator("#carte").bounding_box()
    _place_on_map(page, int(box["width"] / 2), int(box["height"] / 2))
    expect(page.get_by_role("region", name="Est-ce l'une de celles-ci?")).to_be_visible()
    page.get_by_label("Décrivez la situation").fill("Un autre trou, juste à côté.")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Courriel").press("Enter")
    page.wait_for_url("**/suivi/*/?jeton=*")
    with schema_context(TOWN):
        assert ServiceRequest.objects.filter(citizen__email=email).count() == 1
        assert not RequestSubscription.objects.filter(citizen__email=email).exists()


def test_a_neighbour_follows_the_open_request_nearby_instead_of_reporting_it(
    page, live_port, portal_town
):
    email = f"voisin@{CITIZEN_DOMAIN}"
    page.goto(_url(live_port, "/signaler/e2e-nid-de-poule/"))
    box = page.locator("#carte").bounding_box()
    _place_on_map(page, int(box["width"] / 2), int(box["height"] / 2))  # the map's centre

    offered = page.get_by_role("region", name="Est-ce l'une de celles-ci?")
    expect(offered).to_be_visible()
    assert axe_violations(page) == []
    document(page, "report-nearby")
    page.get_by_label("Courriel").fill(email)
    offered.get_by_role("button", name=f"Suivre la demande {portal_town['centred']}").click()
    page.get_by_text(f"Vous suivez maintenant la demande {portal_town['centred']}").wait_for()
    with schema_context(TOWN):
        follower = RequestSubscription.objects.get(request__number=portal_town["centred"])
        assert follower.citizen.email == email
        assert not ServiceRequest.objects.filter(citizen__email=email).exists()


@pytest.fixture
def no_e2e_alerts() -> Iterator[None]:
    def remove() -> None:
        with schema_context(TOWN):
            Alert.objects.filter(title_fr__startswith=E2E_ALERT).delete()

    committed(remove)
    try:
        yield
    finally:
        committed(remove)


def test_a_citizen_chooses_alerts_with_the_keyboard_and_a_supervisor_publishes_one(
    browser, live_port, no_e2e_alerts, mailbox
):
    # The staff account first: making it clears the test citizens of earlier runs.
    with (
        desk_account(
            "e2e-alertes@laval.localhost", SUPERVISOR, department="e2e-voirie"
        ) as supervisor,
        citizen_account_of(f"alertes@{CITIZEN_DOMAIN}") as email,
    ):
        citizen = browser.new_page()
        citizen.goto(_url(live_port, "/alertes/"))
        assert axe_violations(citizen) == []
        citizen.get_by_role("link", name="Se connecter").last.click()
        citizen.get_by_label("Courriel").fill(email)
        citizen.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        citizen.get_by_role("button", name="Connexion").click()
        citizen.wait_for_url("**/alertes/#mes-alertes")

        # The keyboard alone, from the first topic: Tab to the next, Space to check it, Tab
        # to the channel (e-mail, chosen already for a first choice), Tab to the button.
        citizen.get_by_label("Collectes").focus()
        citizen.keyboard.press("Tab")
        expect(citizen.get_by_label("Travaux routiers")).to_be_focused()
        citizen.keyboard.press("Space")
        for _topic in ("Eau potable", "Mesures d'urgence", "channel"):
            citizen.keyboard.press("Tab")
        expect(citizen.get_by_label("Par courriel")).to_be_focused()
        expect(citizen.get_by_label("Par courriel")).to_be_checked()
        citizen.keyboard.press("Tab")  # the link to the contact details
        citizen.keyboard.press("Tab")
        expect(citizen.get_by_role("button", name="Enregistrer mes alertes")).to_be_focused()
        citizen.keyboard.press("Enter")
        citizen.get_by_text("Vos alertes sont enregistrées.").wait_for()
        expect(citizen.get_by_label("Travaux routiers")).to_be_checked()
        assert axe_violations(citizen) == []
        document(citizen, "alerts-subscribe")

        staff = browser.new_page()
        sign_in(staff, live_port, supervisor, path="/personnel/alertes/")
        assert axe_violations(staff) == []
        staff.get_by_label("Sujet").select_option(label="Travaux routiers")
        staff.get_by_label("Titre (français)").fill(f"{E2E_ALERT}Boulevard fermé")
        staff.get_by_label("Texte (français)").fill("Le boulevard est fermé jusqu'à vendredi.")
        staff.get_by_role("button", name="Publier et envoyer").click()
        staff.get_by_text("Alerte publiée : 1 message envoyé aux abonnés.").wait_for()
        assert axe_violations(staff) == []
        document(staff, "alerts-publish")

        message = _mail_to(mailbox, email)
        assert "Boulevard fermé" in message["Subject"]
        citizen.goto(_url(live_port, "/alertes/"))
        expect(citizen.get_by_role("heading", name=f"{E2E_ALERT}Boulevard fermé")).to_be_visible()
        document(citizen, "alerts")
        citizen.goto(_url(live_port, "/en/alerts/"))
        assert axe_violations(citizen) == []
        citizen.close()
        staff.close()


def test_the_privacy_pages_in_both_languages(page, live_port, citizen_account):
    page.goto(_url(live_port, "/confidentialite/"))
    expect(page.get_by_role("heading", name="Ce que nous recueillons")).to_be_visible()
    assert axe_violations(page) == []
    document(page, "privacy")
    page.goto(_url(live_port, "/en/privacy/"))
    expect(page.get_by_role("heading", name="What we collect")).to_be_visible()
    assert axe_violations(page) == []

    page.goto(_url(live_port, "/mon-compte/supprimer/"))
    page.get_by_label("Courriel").fill(citizen_account)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/mon-compte/supprimer/")
    page.get_by_role("button", name="Supprimer mon compte").click()
    page.locator("#erreurs").wait_for()  # no password, no box: nothing happens
    assert axe_violations(page) == []
    document(page, "account-delete")
    page.goto(_url(live_port, "/en/my-account/delete/"))
    assert axe_violations(page) == []
    page.goto(_url(live_port, "/mon-compte/"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger mes données").click()
    assert download.value.suggested_filename.startswith("mes-donnees-")
