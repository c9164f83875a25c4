"""The ledger's test data: Laval's price book, Lévis's project live since 10 November 2026 with
its billing account, and hours logged on it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import services
from billing.models import BillingAccount, PlanPrice
from onboarding.models import Milestone, Plan, TimeEntry
from tenants.models import Municipality
from tests.factories import OnboardingProjectFactory, UserFactory

TODAY = date(2026, 12, 1)
RATES = {"analyse": 12_000, "configuration": 10_000, "formation": 9_500}


@pytest.fixture
def host(laval) -> Municipality:
    return laval


@pytest.fixture
def book(host):
    return services.price_book_create(
        actor=None,
        host=host,
        effective_from=date(2026, 1, 1),
        implementation_fixed_cents=500_000,
        rates=RATES,
        plans=[
            {
                "plan": Plan.STANDARD,
                "basis": PlanPrice.Basis.PER_RESIDENT,
                "period": PlanPrice.Period.MONTHLY,
                "amount": 250,  # 2.5 ¢ per resident per month
                "minimum_cents": 100_000,
            }
        ],
    )


@pytest.fixture
def project(levis):
    """Lévis's onboarding project, live since 10 November 2026, 150,000 residents."""
    Municipality.objects.filter(pk=levis.pk).update(population=150_000)
    levis.refresh_from_db()
    project = OnboardingProjectFactory(
        municipality=levis, name=levis.name, slug=levis.slug, plan=Plan.STANDARD
    )
    services.account_save(
        actor=None,
        municipality=levis,
        contact_name="Service des finances",
        contact_email="finances@levis.example",
        address="2175, chemin du Fleuve, Lévis",
        gst_number="123456789RT0001",
        qst_number="1234567890TQ0001",
    )
    # Opened on 1 November 2026, whatever day the tests run.
    BillingAccount.objects.filter(municipality=levis).update(
        created_at=datetime(2026, 11, 1, 12, tzinfo=ZoneInfo("America/Toronto"))
    )
    milestone = Milestone.objects.create(project=project, kind=Milestone.Kind.WENT_LIVE)
    Milestone.objects.filter(pk=milestone.pk).update(
        at=datetime(2026, 11, 10, 9, tzinfo=ZoneInfo("America/Toronto"))
    )
    return project


def hours(project, day, activity, hours):
    specialist = UserFactory()
    return TimeEntry.objects.create(
        project=project, user=specialist, day=day, activity=activity, hours=Decimal(hours)
    )
