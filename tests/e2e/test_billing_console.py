"""The console's billing pages in Chromium, signed in as an operator: axe (WCAG 2.1 AA) on the
summary, a town's account, a draft, an issued invoice with a payment, a form refused, the list;
screenshots for docs/billing.md (`RELAIS_DOC_SCREENSHOTS=1`)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing import services
from billing.models import (
    BillingAccount,
    HostBillingProfile,
    Invoice,
    InvoiceCounter,
    Payment,
    PriceBook,
)
from onboarding.models import ConsoleMember, Milestone, OnboardingProject, Plan, TimeEntry
from tenants.accounts.models import User
from tenants.models import Municipality
from tests.e2e.desk import axe_violations
from tests.e2e.test_accessibility import committed
from tests.factories import OnboardingProjectFactory
from tests.onboarding.console_helpers import PASSWORD, console_user, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
EMAIL = "e2e-facturation@relais.quebec"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "billing"


def document(page, name: str) -> None:
    if os.environ.get("RELAIS_DOC_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def _remove() -> None:
    """Billing rows are evidence the database keeps (the audit is append-only): only a
    connection replaying as a replica, in tests, removes them."""
    with schema_context("public"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM onboarding_auditentry WHERE action LIKE 'billing.%%'")
        Payment.objects.all().delete()
        Invoice.objects.filter(kind="credit_note").delete()
        Invoice.objects.all().delete()
        InvoiceCounter.objects.all().delete()
        BillingAccount.objects.all().delete()
        PriceBook.objects.all().delete()
        HostBillingProfile.objects.all().delete()
        TimeEntry.objects.filter(project__slug="levis-e2e").delete()
        OnboardingProject.objects.filter(slug="levis-e2e").delete()
        user = User.objects.filter(email=EMAIL).first()
        if user is not None:
            Authenticator.objects.filter(user=user).delete()
            EmailAddress.objects.filter(user=user).delete()
            ConsoleMember.objects.filter(user=user).delete()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])


@pytest.fixture
def ledger():
    state: dict[str, object] = {}

    def create() -> None:
        with schema_context("public"):
            user, state["secret"] = console_user(EMAIL, "operator")
            laval = Municipality.objects.get(slug="laval")
            levis = Municipality.objects.get(slug="levis")
            HostBillingProfile.objects.create(
                host=laval, legal_name="Ville de Laval", address="1, place du Souvenir",
                gst_number="123456789 RT 0001", qst_number="1234567890 TQ 0001",
                declared_investment_cents=650_000_000,
            )  # fmt: skip
            services.price_book_create(
                actor=user, host=laval, effective_from=date(2026, 1, 1),
                implementation_fixed_cents=2_500_000, rates={"formation": 9_500},
                plans=[{"plan": Plan.METROPOLITAN, "basis": "flat", "period": "monthly",
                        "amount": 500_000}],
                items=[{"code": "formation-sur-place", "label_fr": "Journée de formation sur place",
                        "label_en": "On-site training day", "unit_cents": 120_000}],
            )  # fmt: skip
            project = OnboardingProjectFactory(
                municipality=levis, name="Ville de Lévis", slug="levis-e2e",
                domain="levis-e2e.localhost", region="12", plan=Plan.METROPOLITAN,
            )  # fmt: skip
            Milestone.objects.create(project=project, kind=Milestone.Kind.WENT_LIVE)
            services.account_save(
                actor=user, municipality=levis, contact_name="Service des finances",
                contact_email="finances@levis.example", address="2175, chemin du Fleuve",
            )  # fmt: skip
            TimeEntry.objects.create(
                project=project, user=user, day=date(2026, 11, 3), activity="formation",
                hours=Decimal("7"),
            )  # fmt: skip
            issued = services.implementation_draft(
                actor=user, project=project, until=date(2026, 11, 30), today=date(2026, 12, 1)
            )
            issued = services.invoice_issue(actor=user, invoice=issued, today=date(2026, 12, 1))
            services.payment_record(
                actor=user, invoice=issued, amount_cents=1_000_000, method="cheque",
                received_on=date(2026, 12, 4), reference="Chèque 1203",
            )  # fmt: skip
            state["issued"] = issued.pk
            draft = services.subscription_draft(
                actor=user, project=project, period_start=date(2026, 12, 1),
                today=date(2026, 12, 1),
            )  # fmt: skip
            state["draft"] = draft.pk

    committed(_remove)
    committed(create)
    yield state
    committed(_remove)


def test_billing_pages_have_no_wcag_aa_violation(page, live_port, ledger, monkeypatch):
    base = f"http://localhost:{live_port}"
    page.goto(f"{base}/console/facturation/")
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_label("Code").fill(totp_code(ledger["secret"]))
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{base}/console/facturation/")
    violations = axe_violations(page)
    document(page, "summary")

    for path, name in [
        ("/console/facturation/comptes/levis/", "account"),
        (f"/console/facturation/factures/{ledger['draft']}/", "draft"),
        (f"/console/facturation/factures/{ledger['issued']}/", "invoice"),
        ("/console/facturation/factures/", "invoices"),
        ("/console/facturation/recuperation/", "recovery"),
        ("/console/facturation/grilles/laval/", "price-book"),
        ("/en/console/facturation/", ""),
        (f"/en/console/facturation/factures/{ledger['draft']}/", ""),
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        violations += axe_violations(page)
        if name:
            document(page, name)

    # An item of the price book added to the draft, with the keyboard.
    page.goto(f"{base}/console/facturation/factures/{ledger['draft']}/")
    page.get_by_label("Article").focus()
    page.keyboard.press("ArrowDown")
    page.locator("#id_item_quantity").fill("1,5")
    page.locator("#id_item_quantity").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Article ajouté.")
    expect(page.get_by_role("cell", name="Journée de formation sur place")).to_be_visible()
    violations += axe_violations(page)

    # A payment over the balance: refused next to its field, nothing recorded.
    page.goto(f"{base}/console/facturation/factures/{ledger['issued']}/")
    page.get_by_label("Montant reçu ($)").fill("999 999,00")
    page.get_by_role("button", name="Inscrire le paiement").click()
    expect(page.get_by_role("alert")).to_contain_text("dépasse le solde")
    violations += axe_violations(page)

    # With Stripe: the subscription handed to Stripe from the next period, with the keyboard.
    asked = []
    monkeypatch.setattr(
        "billing.services.stripe_subscription_enqueue", lambda **kw: asked.append(kw)
    )  # the task would reach Stripe, out of reach here
    with override_settings(STRIPE_SECRET_KEY="sk_test_relais"):
        page.goto(f"{base}/console/facturation/comptes/levis/")
        violations += axe_violations(page)
        page.get_by_role("button", name="Faire facturer l'abonnement par Stripe").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Demande transmise à Stripe.")
        expect(page.get_by_text("Démarrage demandé à Stripe : à partir du")).to_be_visible()
        violations += axe_violations(page)
        document(page, "account-stripe")
        page.goto(f"{base}/en/console/facturation/comptes/levis/")
        expect(page.get_by_text("Stripe was asked to start: from")).to_be_visible()
        violations += axe_violations(page)
    assert len(asked) == 1
    assert violations == []
