"""The request page in Chromium: an agent adds an internal note and a public reply, changes the
status and sees a refusal next to its field; the page (with a duplicate offered and an
attachment) and the merge confirmation pass axe in French and English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm import services
from crm.models import Citizen, ServiceType
from tenants.accounts.models import User
from tests.crm.desk.request_files import PNG, upload
from tests.e2e.desk import (
    CITIZEN_DOMAIN,
    HOST,
    TOWN,
    axe_violations,
    desk_account,
    document,
    remove_e2e_catalog,
    sign_in,
)
from tests.e2e.test_accessibility import committed
from tests.factories import DepartmentFactory, ServiceCategoryFactory, ServiceTypeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


TYPE_CODE = "e2e-nid-de-poule"
DEPARTMENT_CODE = "e2e-voirie"


@pytest.fixture
def pothole_type() -> Iterator[None]:
    """A committed service type of Laval's for these tests, removed afterwards (other tests
    list Laval's catalog); its requests are removed with the account that filed them."""
    committed(remove_e2e_catalog)
    yield
    committed(remove_e2e_catalog)


def _pothole_and_twin(user_id: int) -> dict[str, str]:
    """Two open pothole requests 1 m apart, filed by the account (so that its clean-up removes
    them), the first with a citizen and a photo."""
    numbers: dict[str, str] = {}

    def create() -> None:
        with schema_context(TOWN):
            user = User.objects.get(pk=user_id)
            service_type = ServiceType.objects.filter(code=TYPE_CODE).first()
            if service_type is None:
                service_type = ServiceTypeFactory(
                    code=TYPE_CODE,
                    name_fr="Nid-de-poule",
                    name_en="Pothole",
                    category=ServiceCategoryFactory(code=DEPARTMENT_CODE),
                    department=DepartmentFactory(code=DEPARTMENT_CODE, name_fr="Voirie"),
                )
            citizen = Citizen.objects.create(
                first_name="Héloïse",
                last_name="Lavoie",
                email=f"heloise@{CITIZEN_DOMAIN}",
                phone="4505550199",
            )
            pothole, twin = (
                services.request_create(
                    actor=user,
                    service_type=service_type,
                    channel="phone",
                    citizen=citizen if index == 0 else None,
                    description=description,
                    address=address,
                    latitude=latitude,
                    longitude="-73.710000",
                )
                for index, (description, address, latitude) in enumerate(
                    [
                        ("Trou profond devant l'école.", "12, rue des Érables", "45.560000"),
                        ("Gros trou dans la rue.", "14, rue des Érables", "45.560010"),
                    ]
                )
            )
            services.request_attach(
                actor=user, service_request=pothole, upload=upload("nid-de-poule.png", PNG)
            )
            numbers.update(pothole=pothole.number, twin=twin.number)

    committed(create)
    return numbers


def _url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


@pytest.mark.usefixtures("pothole_type")
def test_an_agent_writes_a_note_a_reply_and_changes_the_status(page: Any, live_port: int) -> None:
    with desk_account("e2e-requete@laval.localhost", "agent", first_name="Agnès") as agent:
        numbers = _pothole_and_twin(agent.user_id)
        path = f"/personnel/requetes/{numbers['pothole']}/"
        sign_in(page, live_port, agent, path=path)

        expect(page.get_by_role("heading", level=1)).to_contain_text(numbers["pothole"])
        expect(page.get_by_role("link", name="nid-de-poule.png").first).to_be_visible()
        expect(page.get_by_role("link", name=f"Fusionner avec {numbers['twin']}…")).to_be_visible()
        assert axe_violations(page) == []
        document(page, "requete-page")

        page.get_by_label("Note interne (personnel seulement)").fill("Vérifier le trottoir.")
        page.get_by_role("button", name="Ajouter la note interne").click()
        expect(page.get_by_role("status")).to_contain_text("Note interne ajoutée.")
        note = page.locator(".chronologie .note-interne", has_text="Vérifier le trottoir.")
        expect(note).to_contain_text("Interne")

        page.get_by_label("Réponse publique (vue par le citoyen)").fill(
            "Une équipe passera demain."
        )
        page.get_by_role("button", name="Envoyer la réponse au citoyen").click()
        expect(page.get_by_role("status")).to_contain_text("Réponse au citoyen ajoutée.")
        reply = page.locator(".chronologie .reponse-publique", has_text="Une équipe passera")
        expect(reply).to_contain_text("Visible par le citoyen")

        page.get_by_label("Nouveau statut").select_option("in_progress")
        page.get_by_label("Message au citoyen (facultatif)").fill("Travaux commencés.")
        page.get_by_role("button", name="Changer le statut").click()
        expect(page.get_by_role("status")).to_contain_text("Statut changé : En traitement.")
        expect(page.locator(".requete-etat")).to_contain_text("En traitement")
        document(page, "requete-historique")

        page.get_by_role("button", name="Ajouter la note interne").click()
        expect(page.get_by_role("alert")).to_contain_text("Le message est vide.")
        expect(page.get_by_label("Note interne (personnel seulement)")).to_have_attribute(
            "aria-invalid", "true"
        )
        assert axe_violations(page) == []
        document(page, "requete-erreur")

        page.goto(_url(live_port, path))
        page.get_by_role("link", name="English").click()
        page.wait_for_url(f"**/en/staff/requests/{numbers['pothole']}/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert axe_violations(page) == []


@pytest.mark.usefixtures("pothole_type")
def test_the_merge_confirmation_is_accessible_in_both_languages(page: Any, live_port: int) -> None:
    with desk_account("e2e-fusion@laval.localhost", "agent") as agent:
        numbers = _pothole_and_twin(agent.user_id)
        path = f"/personnel/requetes/{numbers['pothole']}/"
        sign_in(page, live_port, agent, path=path)

        page.get_by_role("link", name=f"Fusionner avec {numbers['twin']}…").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Fusionner les requêtes")
        assert axe_violations(page) == []
        document(page, "requete-fusion")
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert axe_violations(page) == []
        page.get_by_role("link", name="Français").click()

        page.get_by_label(numbers["pothole"], exact=False).check()
        page.get_by_role("button", name="Confirmer la fusion").click()
        expect(page.get_by_role("status")).to_contain_text(
            f"La requête {numbers['twin']} a été fusionnée dans la requête {numbers['pothole']}."
        )
