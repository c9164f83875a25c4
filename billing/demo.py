"""The charge-back's demo: Laval's billing profile (its registration numbers, its declared
investment) and price book, Lévis's billing account, hours logged on Lévis's onboarding, an
implementation invoice issued and paid by transfer, and the month's subscription invoice issued.
Called by the `demo` command after the towns are built; made once (an account that has invoices
is left as it is)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import services
from billing.models import BillingAccount, HostBillingProfile, Invoice, PriceBook
from onboarding.models import Milestone, OnboardingProject, Plan
from onboarding.services import time_entry_log
from tenants.accounts.models import User
from tenants.models import Municipality

RATES = {
    "analyse": 12_500,
    "configuration": 11_000,
    "donnees": 11_000,
    "formation": 9_500,
    "accompagnement": 9_000,
    "gestion": 12_500,
}
PLANS = [
    {"plan": Plan.ESSENTIAL, "basis": "flat", "period": "monthly", "amount": 50_000},
    {
        "plan": Plan.STANDARD,
        "basis": "per_resident",
        "period": "monthly",
        "amount": 250,  # 2.5 ¢ per resident per month
        "minimum_cents": 100_000,
    },
    {
        "plan": Plan.METROPOLITAN,
        "basis": "per_resident",
        "period": "monthly",
        "amount": 200,
        "minimum_cents": 500_000,
    },
]
# One-off items a draft can take (the console's « Ajouter un article de la grille de prix »).
ITEMS = [
    {"code": "formation-sur-place", "label_fr": "Journée de formation sur place",
     "label_en": "On-site training day", "unit_cents": 120_000},
    {"code": "import-donnees", "label_fr": "Import de données historiques",
     "label_en": "Historical data import", "unit_cents": 350_000},
]  # fmt: skip
# (days before today, activity, hours): the onboarding's hours, as a specialist logged them.
HOURS = [
    (40, "analyse", "6"),
    (38, "analyse", "3.5"),
    (30, "configuration", "7.5"),
    (29, "configuration", "5"),
    (21, "donnees", "4"),
    (14, "formation", "7"),
    (13, "formation", "7"),
    (7, "gestion", "2.5"),
]


@dataclass(frozen=True)
class BillingDemo:
    invoices: int
    paid: int


def build_billing_demo(*, operator_email: str, today: date | None = None) -> BillingDemo:
    """`operator_email`: the console's operator, who writes it all (the audit names them)."""
    today = today or timezone.localdate()
    operator = User.objects.get(email=operator_email)
    host = Municipality.objects.get(slug="laval")
    partner = Municipality.objects.get(slug="levis")
    with transaction.atomic():
        project = _project_of(partner, host)
        HostBillingProfile.objects.update_or_create(
            host=host,
            defaults={
                "legal_name": "Ville de Laval",
                "address": "1, place du Souvenir\nLaval (Québec) H7V 1W7",
                "gst_number": "123456789 RT 0001",
                "qst_number": "1234567890 TQ 0001",
                "declared_investment_cents": 650_000_000,
            },
        )
        if not PriceBook.objects.filter(host=host).exists():
            services.price_book_create(
                actor=operator,
                host=host,
                effective_from=date(today.year, 1, 1),
                implementation_fixed_cents=2_500_000,
                rates=RATES,
                plans=[{"minimum_cents": 0, **plan} for plan in PLANS],
                items=ITEMS,
            )
        account = BillingAccount.objects.filter(municipality=partner).first()
        if account is None:
            account = services.account_save(
                actor=operator,
                municipality=partner,
                contact_name="Service des finances, Ville de Lévis",
                contact_email="finances@levis.localhost",
                address="2175, chemin du Fleuve\nLévis (Québec) G6W 7W9",
                purchase_order="BC-2026-0412",
                gst_number="987654321 RT 0001",
                qst_number="9876543210 TQ 0001",
            )
        if Invoice.objects.filter(account=account).exists():
            return _counts(account)
        if not project.time_entries.exists():
            for days, activity, hours in HOURS:
                time_entry_log(
                    project=project,
                    user=operator,
                    day=today - timedelta(days=days),
                    activity=activity,
                    hours=Decimal(hours),
                )
        implementation = services.implementation_draft(
            actor=operator, project=project, until=today, today=today
        )
        implementation = services.invoice_issue(
            actor=operator, invoice=implementation, today=today - timedelta(days=5)
        )
        services.payment_record(
            actor=operator,
            invoice=implementation,
            amount_cents=implementation.total_cents,
            method="eft",
            received_on=today,
            reference="Virement 2026-118",
        )
        subscription = services.subscription_draft(
            actor=operator, project=project, period_start=today.replace(day=1), today=today
        )
        services.invoice_issue(actor=operator, invoice=subscription, today=today)
    return _counts(account)


def _project_of(partner: Municipality, host: Municipality) -> OnboardingProject:
    """Lévis's onboarding project: the wizard's, or, for a Lévis made before the demo onboarded
    it through the wizard, a record of it as live since today (what billing needs: its plan,
    its go-live)."""
    project = OnboardingProject.objects.filter(municipality=partner).first()
    if project is not None:
        return project
    project = OnboardingProject.objects.create(
        host=host,
        municipality=partner,
        status=OnboardingProject.Status.LIVE,
        name=partner.name,
        slug=partner.slug,
        domain=f"{partner.slug}.localhost",
        population=partner.population,
        region=partner.region,
        plan=Plan.METROPOLITAN,
    )
    Milestone.objects.create(project=project, kind=Milestone.Kind.WENT_LIVE)
    return project


def _counts(account: BillingAccount) -> BillingDemo:
    invoices = Invoice.objects.filter(account=account)
    return BillingDemo(invoices=invoices.count(), paid=invoices.filter(status="paid").count())


__all__ = ["PLANS", "RATES", "BillingDemo", "build_billing_demo"]
