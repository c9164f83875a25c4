"""The same Stripe event delivered twice at the same moment has one effect: the second waits on
the event id's unique index until the first commits, then finds it.

Threads have their own connections and see only committed rows: this test commits for real,
outside the per-test transaction, and removes what it wrote at the end."""

from __future__ import annotations

import threading
from datetime import date

from django.db import connection, connections, transaction

from billing import services
from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceCounter,
    Payment,
    PriceBook,
    StripeEvent,
)
from billing.webhooks import stripe_event_apply
from onboarding.models import Milestone, OnboardingProject, Plan
from tenants.models import Municipality
from tests.factories import OnboardingProjectFactory

SLUG = "levis-concurrence"


def _cleanup() -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:  # the audit is append-only
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM onboarding_auditentry WHERE action LIKE 'billing.%%'")
        StripeEvent.objects.filter(event_id__startswith="evt_concurrent").delete()
        Payment.objects.all().delete()
        Invoice.objects.all().delete()
        InvoiceCounter.objects.all().delete()
        BillingAccount.objects.all().delete()
        PriceBook.objects.all().delete()
        OnboardingProject.objects.filter(slug=SLUG).delete()


def test_the_same_event_twice_at_once_has_one_effect(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _cleanup()
        try:
            laval = Municipality.objects.get(slug="laval")
            levis = Municipality.objects.get(slug="levis")
            services.price_book_create(
                actor=None, host=laval, effective_from=date(2026, 1, 1), rates={},
                plans=[{"plan": Plan.STANDARD, "basis": "flat", "period": "monthly",
                        "amount": 100_000}],
            )  # fmt: skip
            project = OnboardingProjectFactory(
                municipality=levis, slug=SLUG, domain=f"{SLUG}.localhost", plan=Plan.STANDARD
            )
            Milestone.objects.create(project=project, kind=Milestone.Kind.WENT_LIVE)
            services.account_save(
                actor=None, municipality=levis, contact_name="Finances",
                contact_email="finances@levis.example", address="Lévis",
            )  # fmt: skip
            today = Milestone.objects.get(project=project).at.date()
            draft = services.subscription_draft(
                actor=None, project=project, period_start=today.replace(day=1), today=today
            )
            invoice = services.invoice_issue(actor=None, invoice=draft, today=today)
            Invoice.objects.filter(pk=invoice.pk).update(stripe_invoice_id="in_concurrent")
            event = {
                "id": "evt_concurrent_paid",
                "type": "invoice.paid",
                "created": 1,
                "data": {"object": {"id": "in_concurrent", "amount_paid": invoice.total_cents}},
            }
            barrier = threading.Barrier(2)
            outcomes: list[str] = []
            errors: list[BaseException] = []

            def deliver() -> None:
                try:
                    barrier.wait(timeout=30)
                    outcomes.append(stripe_event_apply(event=event))
                except BaseException as error:  # reported below
                    errors.append(error)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=deliver) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            assert errors == []
            assert sorted(outcomes) == ["duplicate", "paid"]
            assert Payment.objects.filter(invoice=invoice).count() == 1
            assert Invoice.objects.get(pk=invoice.pk).balance_cents == 0
        finally:
            _cleanup()
