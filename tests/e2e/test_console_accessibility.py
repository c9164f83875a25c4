"""axe-core (WCAG 2.1 AA) on the platform console and the sign-in pages it goes through, in
Chromium, signed in the way a person does: e-mail and password, then a TOTP code."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from onboarding.models import ConsoleMember, OnboardingProject
from tenants.accounts.models import User
from tenants.models import Municipality
from tests.e2e.test_accessibility import WCAG_AA, committed
from tests.factories import OnboardingProjectFactory
from tests.onboarding.console_helpers import PASSWORD, console_user, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

EMAIL = "a11y-console@relais.quebec"


def _violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{page.url} {v['id']}: {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]


@pytest.fixture
def console_account():
    state: dict[str, object] = {}

    def create() -> None:
        with schema_context("public"):
            _user, state["secret"] = console_user(EMAIL, "operator")
            project = OnboardingProjectFactory(
                name="Ville d'Essai",
                slug="essai-a11y",
                domain="essai-a11y.localhost",
                region="13",
                completed_steps=["identity", "profile"],
                staff=[
                    {
                        "email": "a@essai.ca",
                        "first_name": "A",
                        "last_name": "B",
                        "role": "personnel",
                        "language": "fr",
                    }
                ],
            )
            state["project"] = project.pk
            # A provisioned project (on Laval, which exists): the go-live checklist and the
            # provisioning log.
            provisioned = OnboardingProjectFactory(
                municipality=Municipality.objects.get(slug="laval"),
                status=OnboardingProject.Status.PROVISIONED,
                name="Ville d'Essai en service",
                slug="essai-a11y-2",
                domain="essai-a11y-2.localhost",
                region="13",
                completed_steps=["identity", "profile", "plan", "catalog", "staff"],
                provisioning_log=[
                    {"step": "schema", "ms": 24.0},
                    {"step": "catalog", "ms": 176.0, "counts": {"service_types": 44}},
                    {"step": "staff", "ms": 3.0, "count": 2},
                    {"step": "total", "ms": 210.0},
                ],
            )
            state["provisioned"] = provisioned.pk

    def remove() -> None:
        with schema_context("public"):
            OnboardingProject.objects.filter(slug__in=["essai-a11y", "essai-a11y-2"]).delete()
            user = User.objects.filter(email=EMAIL).first()
            if user is None:
                return
            Authenticator.objects.filter(user=user).delete()
            EmailAddress.objects.filter(user=user).delete()
            ConsoleMember.objects.filter(user=user).delete()
            # The ORM's cascade would look for the towns' tables (crm) in the public schema.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])

    committed(remove)
    committed(create)
    yield state
    committed(remove)


def test_console_pages_have_no_wcag_aa_violation(page, live_port, console_account):
    base = f"http://localhost:{live_port}"
    violations: list[str] = []

    page.goto(f"{base}/console/")
    assert "/comptes/login/" in page.url
    violations += _violations(page)
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    assert "/comptes/2fa/authenticate/" in page.url
    violations += _violations(page)
    page.get_by_label("Code").fill(totp_code(console_account["secret"]))
    page.get_by_role("button", name="Connexion").click()
    assert page.url == f"{base}/console/"

    project = console_account["project"]
    for path in [
        "/console/",
        "/en/console/",
        "/console/?q=laval",
        "/console/?q=aucune-ville",
        "/en/console/?q=levis",
        "/console/projets/",
        "/console/projets/nouveau/",
        f"/console/projets/{project}/",
        *(
            f"/console/projets/{project}/etapes/{step}/"
            for step in ("identite", "profil", "forfait", "catalogue", "personnel", "image")
        ),
        f"/console/projets/{project}/etapes/revue/",
        f"/console/projets/{project}/mise-en-service/",
        f"/console/projets/{console_account['provisioned']}/",
        f"/console/projets/{console_account['provisioned']}/mise-en-service/",
        f"/console/projets/{console_account['provisioned']}/mise-en-ligne/",
        "/console/municipalites/laval/",
        "/console/journal/",
        "/console/membres/",
        "/comptes/2fa/",
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        violations += _violations(page)

    # A form sent with errors stays accessible (errors tied to their fields).
    page.goto(f"{base}/console/projets/{project}/")
    page.get_by_role("button", name="Consigner").click()
    # The click returns before the answer to the POST is shown: wait for it.
    expect(page.locator(".errorlist").first).to_be_visible()
    violations += _violations(page)

    # The historical-requests import: upload, then the column-mapping step.
    page.goto(f"{base}/console/municipalites/levis/")
    page.get_by_label("Fichier CSV des requêtes historiques").set_input_files(
        files=[
            {"name": "h.csv", "mimeType": "text/csv", "buffer": b"No;Type;Date\n1;x;2024-01-01\n"}
        ]
    )
    page.get_by_role("button", name="Téléverser et associer les colonnes").click()
    page.wait_for_url("**/import-requetes/**")
    violations += _violations(page)
    page.get_by_role("button", name="Vérifier (rien n'est écrit)").click()
    expect(page.locator("[role=alert]").first).to_be_visible()  # the validation report
    violations += _violations(page)

    assert violations == []
