"""axe-core (WCAG 2.1 AA) on the town admin's Law 25 pages, in Chromium, signed in the way an
administrator does: the purpose form (blank, with errors), the citizen list and record it
opens, the export and anonymisation pages (with errors), and the incident register (list,
form with errors, form with its versions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import AccessLog, Citizen, PrivacyIncident, PrivacyIncidentVersion
from crm.privacy import incident_update
from crm.services import citizen_create
from tenants.accounts.models import User
from tests.accounts import totp_code, totp_device
from tests.e2e.test_accessibility import WCAG_AA, committed
from tests.factories import TEST_PASSWORD, PrivacyIncidentFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

EMAIL = "a11y-vie-privee@laval.localhost"


def _violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{page.url} {v['id']}: {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]


def _remove() -> None:
    """What the pages wrote is evidence the database keeps (append-only access log, incident
    register): only a superuser connection replaying as a replica, in tests, removes it."""
    with schema_context("laval"), transaction.atomic():
        user = User.objects.filter(email=EMAIL).first()
        if user is None:
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        AccessLog.objects.filter(actor=user).delete()
        PrivacyIncidentVersion.objects.filter(incident__created_by=user).delete()
        PrivacyIncident.objects.filter(created_by=user).delete()
        Citizen.objects.filter(email="a11y-citoyenne@exemple.qc.ca").delete()
        user.delete()


@pytest.fixture
def administrator():
    state: dict[str, object] = {}

    def create() -> None:
        with schema_context("laval"):
            user = UserFactory(email=EMAIL, is_staff=True, is_superuser=True)
            state["secret"] = totp_device(user)
            state["citizen"] = citizen_create(
                actor=None,
                first_name="Zoé",
                last_name="Accessible",
                email="a11y-citoyenne@exemple.qc.ca",
            ).pk
            incident = PrivacyIncidentFactory(
                created_by=user,
                title="Liste oubliée au comptoir",
                information_concerned="Noms et téléphones.",
                circumstances="Liste imprimée oubliée.",
                occurred_on=timezone.localdate() - timedelta(days=5),
                discovered_on=timezone.localdate() - timedelta(days=4),
                persons_concerned=12,
            )
            incident_update(actor=user, incident=incident, persons_concerned=14)
            state["incident"] = incident.pk

    committed(_remove)
    committed(create)
    yield state
    committed(_remove)


def test_law_25_admin_pages_have_no_wcag_aa_violation(page, live_port, administrator):
    base = f"http://laval.localhost:{live_port}/admin"
    citizen, incident = administrator["citizen"], administrator["incident"]
    violations: list[str] = []

    page.goto(f"{base}/login/?next=/admin/")  # the admin's door leads to allauth's sign-in
    assert "/comptes/login/" in page.url
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_label("Code").fill(totp_code(administrator["secret"]))
    page.get_by_role("button", name="Connexion").click()
    assert page.url.endswith("/admin/")

    # The purpose, asked before the list; an empty "other" is an error tied to its field.
    page.goto(f"{base}/crm/citizen/?q=Accessible")
    assert page.get_by_role("heading", name="Motif de la consultation").is_visible()
    violations += _violations(page)
    page.get_by_label("Autre motif (précisez)").check()
    page.get_by_role("button", name="Afficher la liste").click()
    expect(page.get_by_role("alert")).to_have_count(1)
    violations += _violations(page)
    page.get_by_label("Recherche et fusion de doublons").check()
    page.get_by_role("button", name="Afficher la liste").click()
    page.wait_for_url("**/crm/citizen/?q=Accessible")
    assert page.locator("#result_list").get_by_text("Zoé Accessible").is_visible()
    violations += _violations(page)

    # The record: its own purpose, then the page with the export and anonymisation tools.
    page.goto(f"{base}/crm/citizen/{citizen}/change/")
    page.get_by_label("Traitement d'une requête du citoyen").check()
    page.get_by_label("Précisions").fill("2026-000123")
    page.get_by_role("button", name="Afficher la fiche").click()
    page.wait_for_url(f"**/crm/citizen/{citizen}/change/")
    assert page.get_by_role("link", name="Anonymiser").is_visible()
    violations += _violations(page)

    for path, button in (
        (f"/crm/citizen/{citizen}/exporter/", "Télécharger le fichier JSON"),
        (f"/crm/citizen/{citizen}/anonymiser/", "Anonymiser définitivement"),
    ):
        page.goto(f"{base}{path}")
        violations += _violations(page)
        page.get_by_role("button", name=button).click()  # nothing chosen: errors, nothing done
        expect(page.get_by_role("alert").first).to_be_visible()
        violations += _violations(page)

    # The incident register.
    for path in (
        "/crm/privacyincident/",
        "/crm/privacyincident/add/",
        f"/crm/privacyincident/{incident}/change/",
    ):
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        violations += _violations(page)
    page.goto(f"{base}/crm/privacyincident/add/")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("alert")).to_have_count(1)
    violations += _violations(page)

    assert violations == [], "\n".join(violations)
