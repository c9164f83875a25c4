"""The charge-back ledger: price books versioned, a partner town's billing account, draft
invoices from a project's unbilled hours (each time entry billed at most once) and from a
subscription period (prorated from the go-live date), issuing with gap-free numbers, credit
notes, and cheques or transfers received; every write in the console's audit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import services
from billing.errors import BillingError
from billing.models import BilledTime, Invoice, InvoiceStatus
from onboarding.models import AuditEntry, Milestone
from tests.billing.conftest import TODAY
from tests.billing.conftest import hours as _hours
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_price_books_are_versioned_and_the_one_in_force_prices(host, book):
    later = services.price_book_create(
        actor=None, host=host, effective_from=date(2027, 1, 1), rates={"analyse": 13_000}
    )

    assert (book.version, later.version) == (1, 2)
    assert services.price_book_current(host=host, on=TODAY) == book
    assert services.price_book_current(host=host, on=date(2027, 2, 1)) == later
    with pytest.raises(BillingError) as refused:
        services.price_book_current(host=host, on=date(2025, 6, 1))
    assert refused.value.code == "no_price_book"


def test_hours_are_billed_by_activity_and_month_once(book, project):
    _hours(project, date(2026, 10, 6), "analyse", "3.5")
    _hours(project, date(2026, 10, 20), "analyse", "2.25")
    _hours(project, date(2026, 11, 3), "formation", "6")
    late = _hours(project, date(2026, 12, 2), "configuration", "1")

    draft = services.implementation_draft(
        actor=None, project=project, until=date(2026, 11, 30), today=TODAY
    )

    lines = list(draft.lines.values_list("kind", "quantity", "unit_cents", "amount_cents"))
    assert lines == [
        ("implementation_fixed", Decimal(1), 500_000, 500_000),
        ("implementation_hours", Decimal("5.75"), 12_000, 69_000),
        ("implementation_hours", Decimal("6"), 9_500, 57_000),
    ]
    analysis = draft.lines.get(activity="analyse")
    assert analysis.description_fr == "Analyse des besoins — octobre 2026"
    assert analysis.description_en == "Needs analysis — October 2026"
    assert (draft.subtotal_cents, draft.gst_cents, draft.qst_cents) == (626_000, 31_300, 62_444)
    assert draft.total_cents == 719_744
    assert BilledTime.objects.count() == 3
    assert not BilledTime.objects.filter(time_entry=late).exists()
    # Billed once: a second draft finds only the later hours, and no fixed fee.
    second = services.implementation_draft(
        actor=None, project=project, until=date(2026, 12, 31), today=TODAY
    )
    assert list(second.lines.values_list("kind", "amount_cents")) == [
        ("implementation_hours", 10_000)
    ]
    with pytest.raises(BillingError) as nothing:
        services.implementation_draft(
            actor=None, project=project, until=date(2026, 12, 31), today=TODAY
        )
    assert nothing.value.code == "nothing_to_bill"


def test_a_deleted_draft_frees_its_hours_and_a_missing_rate_bills_nothing(book, project):
    _hours(project, date(2026, 11, 3), "formation", "2")
    draft = services.implementation_draft(actor=None, project=project, until=TODAY, today=TODAY)
    services.draft_delete(actor=None, invoice=draft)
    _hours(project, date(2026, 11, 4), "donnees", "1")  # no rate for data migration

    with pytest.raises(BillingError) as refused:
        services.implementation_draft(actor=None, project=project, until=TODAY, today=TODAY)

    assert refused.value.code == "missing_rate"
    assert not Invoice.objects.exists()
    assert not BilledTime.objects.exists()


def test_a_subscription_is_prorated_from_the_go_live_date(book, project):
    november = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 11, 1), today=TODAY
    )
    december = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )

    # 150,000 residents × 2.5 ¢ = $3,750.00 a month; live on the 10th: 21 days of 30.
    assert november.lines.get().amount_cents == 262_500
    assert "au prorata : 21 jours sur 30" in november.lines.get().description_fr
    assert december.lines.get().amount_cents == 375_000
    with pytest.raises(BillingError) as twice:
        services.subscription_draft(
            actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
        )
    assert twice.value.code == "period_already_billed"
    with pytest.raises(BillingError) as before:
        services.subscription_draft(
            actor=None, project=project, period_start=date(2026, 10, 1), today=TODAY
        )
    assert before.value.code == "not_live"


def test_issued_invoices_get_gap_free_numbers_and_never_change(book, project):
    _hours(project, date(2026, 11, 3), "formation", "2")
    first = services.implementation_draft(actor=None, project=project, until=TODAY, today=TODAY)
    second = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )

    first = services.invoice_issue(actor=None, invoice=first, today=TODAY)
    second = services.invoice_issue(actor=None, invoice=second, today=date(2026, 12, 2))

    assert (first.number, second.number) == ("FAC-2026-00001", "FAC-2026-00002")
    assert first.due_on == date(2026, 12, 31)  # net 30
    assert first.status == InvoiceStatus.OPEN
    for change in (
        lambda: services.invoice_issue(actor=None, invoice=first, today=TODAY),
        lambda: services.line_add(
            actor=None, invoice=first, kind="adjustment", description_fr="x", unit_cents=1
        ),
        lambda: services.draft_delete(actor=None, invoice=first),
    ):
        with pytest.raises(BillingError) as refused:
            change()
        assert refused.value.code == "not_draft"


def test_a_credit_note_corrects_an_issued_invoice(book, project):
    invoice = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    invoice = services.invoice_issue(actor=None, invoice=invoice, today=TODAY)

    too_much = pytest.raises(BillingError)
    with too_much as refused:
        services.credit_note_draft(
            actor=None, invoice=invoice, amount_cents=375_001, reason="Erreur"
        )
    note = services.credit_note_draft(
        actor=None, invoice=invoice, amount_cents=375_000, reason="Forfait mal choisi"
    )
    note = services.invoice_issue(actor=None, invoice=note, today=TODAY)
    invoice.refresh_from_db()

    assert refused.value.code == "credit_too_large"
    assert note.number == "NC-2026-00001"
    assert note.total_cents == -invoice.total_cents
    assert invoice.balance_cents == 0
    assert invoice.status == InvoiceStatus.PAID
    assert "Forfait mal choisi" in note.lines.get().description_fr


def test_cheques_and_transfers_pay_an_invoice_in_parts_never_more(book, project):
    invoice = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    invoice = services.invoice_issue(actor=None, invoice=invoice, today=TODAY)
    actor = UserFactory(email="finances@laval.example")

    services.payment_record(
        actor=actor, invoice=invoice, amount_cents=200_000, method="cheque",
        received_on=date(2026, 12, 10), reference="Chèque 4412",
    )  # fmt: skip
    with pytest.raises(BillingError) as over:
        services.payment_record(
            actor=actor, invoice=invoice, amount_cents=invoice.total_cents, method="eft",
            received_on=date(2026, 12, 11),
        )  # fmt: skip
    services.payment_record(
        actor=actor, invoice=invoice, amount_cents=invoice.total_cents - 200_000, method="eft",
        received_on=date(2026, 12, 12),
    )  # fmt: skip
    invoice.refresh_from_db()

    assert over.value.code == "overpayment"
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance_cents == 0
    assert (
        AuditEntry.objects.filter(
            action="billing.payment_record", actor_email="finances@laval.example"
        ).count()
        == 2
    )
    with pytest.raises(BillingError) as closed:
        services.payment_record(
            actor=actor, invoice=invoice, amount_cents=1, method="eft", received_on=TODAY
        )
    assert closed.value.code == "not_open"


def test_only_an_unpaid_issued_invoice_is_voided_and_keeps_its_number(book, project):
    invoice = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    invoice = services.invoice_issue(actor=None, invoice=invoice, today=TODAY)

    voided = services.invoice_void(actor=None, invoice=invoice, reason="Envoyée en double")
    again = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )  # a voided period can be billed again

    assert voided.status == InvoiceStatus.VOID
    assert voided.number == "FAC-2026-00001"
    assert again.lines.get().amount_cents == 375_000


def test_a_host_town_has_no_billing_account(host):
    with pytest.raises(BillingError) as refused:
        services.account_save(
            actor=None, municipality=host, contact_name="x", contact_email="x@x.ca", address="x"
        )
    assert refused.value.code == "not_a_partner"


def test_a_credit_note_keeps_its_one_line_and_an_invoice_is_never_negative(book, project):
    invoice = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    services.line_add(
        actor=None, invoice=invoice, kind="adjustment", description_fr="Remise",
        unit_cents=-400_000,
    )  # fmt: skip
    with pytest.raises(BillingError) as negative:
        services.invoice_issue(actor=None, invoice=invoice, today=TODAY)
    services.draft_delete(actor=None, invoice=invoice)
    invoice = services.invoice_issue(
        actor=None,
        invoice=services.subscription_draft(
            actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
        ),
        today=TODAY,
    )
    note = services.credit_note_draft(actor=None, invoice=invoice, amount_cents=100, reason="x")
    with pytest.raises(BillingError) as second_line:
        services.line_add(
            actor=None, invoice=note, kind="adjustment", description_fr="y", unit_cents=5_000
        )
    with pytest.raises(BillingError) as void_with_credit:
        services.invoice_void(actor=None, invoice=invoice, reason="z")

    assert negative.value.code == "invalid_amount"
    assert second_line.value.code == "not_draft"
    assert void_with_credit.value.code == "not_open"


def test_a_paid_invoice_is_credited_and_the_town_is_owed_the_difference(book, project):
    invoice = services.invoice_issue(
        actor=None,
        invoice=services.subscription_draft(
            actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
        ),
        today=TODAY,
    )
    services.payment_record(
        actor=None, invoice=invoice, amount_cents=invoice.total_cents, method="eft",
        received_on=TODAY,
    )  # fmt: skip
    note = services.credit_note_draft(
        actor=None, invoice=invoice, amount_cents=10_000, reason="Geste commercial"
    )
    services.invoice_issue(actor=None, invoice=note, today=TODAY)
    invoice.refresh_from_db()

    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance_cents == -11_498  # $114.98 to give back


def test_voiding_frees_the_hours_it_billed(book, project):
    _hours(project, date(2026, 11, 3), "formation", "2")
    first = services.invoice_issue(
        actor=None,
        invoice=services.implementation_draft(
            actor=None, project=project, until=TODAY, today=TODAY
        ),
        today=TODAY,
    )
    services.invoice_void(actor=None, invoice=first, reason="Mauvais taux")

    again = services.implementation_draft(actor=None, project=project, until=TODAY, today=TODAY)

    assert again.lines.filter(kind="implementation_hours").get().quantity == Decimal(2)


def test_the_go_live_day_is_the_towns_and_a_leap_year_ends_on_28_february(book, project):
    # 23:30 in Québec on 30 November is 1 December in UTC: the town went live on the 30th.
    Milestone.objects.filter(project=project).update(
        at=datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("America/Toronto"))
    )
    november = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 11, 1), today=TODAY
    )

    assert november.lines.get().period_start == date(2026, 11, 30)
    assert services._period_end(date(2028, 2, 29), "yearly") == date(2029, 2, 28)
