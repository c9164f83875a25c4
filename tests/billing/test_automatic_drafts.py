"""The daily schedule of the subscriptions the ledger bills: one draft per period begun and not
billed yet, from the period in which the billing account was opened, the first one prorated
from the go-live date; nothing issued, nothing drafted twice, a town whose Stripe subscription
bills itself left to Stripe, and each town's drafts its own."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from billing import services
from billing.models import BillingAccount, Invoice, InvoiceStatus, PlanPrice
from onboarding.models import Milestone, Plan
from tenants.models import Municipality
from tests.factories import OnboardingProjectFactory

pytestmark = pytest.mark.django_db
QUEBEC = ZoneInfo("America/Toronto")


def _opened(account: BillingAccount, day: date) -> None:
    BillingAccount.objects.filter(pk=account.pk).update(
        created_at=datetime(day.year, day.month, day.day, 12, tzinfo=QUEBEC)
    )


def _periods(town: Municipality) -> list[tuple[date, date, int]]:
    return [
        (line.period_start, line.period_end, line.amount_cents)
        for invoice in Invoice.objects.filter(account__municipality=town).order_by("pk")
        for line in invoice.lines.all()
    ]


def _second_town(host: Municipality) -> Municipality:
    """A partner town's row (its schema is not needed by the public ledger)."""
    (town,) = Municipality.objects.bulk_create(
        [Municipality(name="Saint-Lin", slug="saint-lin", schema_name="saint_lin", region="14",
                      host=host, population=20_000)]
    )  # fmt: skip
    project = OnboardingProjectFactory(
        municipality=town, name=town.name, slug=town.slug, plan=Plan.STANDARD
    )
    services.account_save(
        actor=None,
        municipality=town,
        contact_name="Greffe",
        contact_email="greffe@saint-lin.example",
        address="1, rue Principale",
    )
    live = Milestone.objects.create(project=project, kind=Milestone.Kind.WENT_LIVE)
    Milestone.objects.filter(pk=live.pk).update(at=datetime(2026, 12, 1, 9, tzinfo=QUEBEC))
    return town


def test_each_period_begun_is_drafted_once_from_the_accounts_opening(book, project, laval):
    levis = project.municipality
    _opened(levis.billing_account, date(2026, 11, 1))
    saint_lin = _second_town(laval)
    _opened(saint_lin.billing_account, date(2026, 12, 15))

    first = services.subscription_drafts_due(today=date(2027, 1, 15))
    again = services.subscription_drafts_due(today=date(2027, 1, 31))

    # Lévis: 150,000 × 2.5 ¢ = $3,750 a month, live on 10 November (21 days of 30).
    assert _periods(levis) == [
        (date(2026, 11, 10), date(2026, 11, 30), 262_500),
        (date(2026, 12, 1), date(2026, 12, 31), 375_000),
        (date(2027, 1, 1), date(2027, 1, 31), 375_000),
    ]
    # Saint-Lin: 20,000 × 2.5 ¢ = $500, under the $1,000 minimum; live on 1 December, its
    # account opened on the 15th: December is its first period.
    assert [(start, amount) for start, _end, amount in _periods(saint_lin)] == [
        (date(2026, 12, 1), 100_000),
        (date(2027, 1, 1), 100_000),
    ]
    assert sorted((d.town, d.period_start) for d in first if d.invoice) == [
        ("Saint-Lin", date(2026, 12, 1)),
        ("Saint-Lin", date(2027, 1, 1)),
        ("Ville de Lévis", date(2026, 11, 1)),
        ("Ville de Lévis", date(2026, 12, 1)),
        ("Ville de Lévis", date(2027, 1, 1)),
    ]
    assert again == []
    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.DRAFT}


def test_a_period_billed_by_hand_or_by_stripe_is_not_drafted(book, project):
    levis = project.municipality
    services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=date(2026, 12, 2)
    )
    by_hand = services.subscription_drafts_due(today=date(2026, 12, 20))
    BillingAccount.objects.filter(municipality=levis).update(
        stripe_subscription_id="sub_1", stripe_subscription_status="active"
    )
    by_stripe = services.subscription_drafts_due(today=date(2027, 1, 5))
    BillingAccount.objects.filter(municipality=levis).update(stripe_subscription_status="canceled")
    after_stripe = services.subscription_drafts_due(today=date(2027, 1, 5))

    # November was not billed: drafted; December was, by hand: skipped.
    assert [(d.period_start, d.invoice is not None) for d in by_hand] == [(date(2026, 11, 1), True)]
    assert by_stripe == []
    assert [(d.period_start, d.invoice is not None) for d in after_stripe] == [
        (date(2027, 1, 1), True)
    ]


def test_a_yearly_plan_is_drafted_on_the_go_live_anniversaries(host, book, project):
    PlanPrice.objects.filter(price_book=book).update(
        period=PlanPrice.Period.YEARLY, basis=PlanPrice.Basis.FLAT, amount=1_200_000
    )
    _opened(project.municipality.billing_account, date(2026, 11, 1))

    services.subscription_drafts_due(today=date(2027, 11, 10))

    assert _periods(project.municipality) == [
        (date(2026, 11, 10), date(2027, 11, 9), 1_200_000),
        (date(2027, 11, 10), date(2028, 11, 9), 1_200_000),
    ]


def test_the_command_says_what_it_drafted_and_what_it_could_not(book, project):
    PlanPrice.objects.filter(price_book=book).delete()
    refused, out = StringIO(), StringIO()
    call_command("billing_subscription_drafts", "--date", "2026-12-15", stdout=out, stderr=refused)
    book.plans.create(
        plan=project.plan, basis=PlanPrice.Basis.FLAT, period=PlanPrice.Period.MONTHLY,
        amount=50_000,
    )  # fmt: skip
    drafted = StringIO()
    call_command("billing_subscription_drafts", "--date", "2026-12-15", stdout=drafted)

    assert "Ville de Lévis —: La grille de prix n'a pas de prix pour le forfait de ce projet." in (
        refused.getvalue()
    )
    assert "brouillons préparés : 0" in out.getvalue()
    assert "Ville de Lévis 2026-12-01: brouillon n°" in drafted.getvalue()
    assert "brouillons préparés : 2" in drafted.getvalue()  # November and December


def test_a_draft_deleted_or_an_invoice_voided_is_not_drafted_again(book, project):
    first = services.subscription_drafts_due(today=date(2026, 12, 15))
    november, december = (outcome.invoice for outcome in first)
    services.draft_delete(actor=None, invoice=november)
    issued = services.invoice_issue(actor=None, invoice=december, today=date(2026, 12, 15))
    services.invoice_void(actor=None, invoice=issued, reason="Période offerte")

    again = services.subscription_drafts_due(today=date(2026, 12, 20))
    by_hand = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=date(2026, 12, 20)
    )

    assert [d.period_start for d in first] == [date(2026, 11, 1), date(2026, 12, 1)]
    assert again == []  # the finance team dropped them: drafted by hand only
    assert by_hand.lines.get().period_start == date(2026, 12, 1)
