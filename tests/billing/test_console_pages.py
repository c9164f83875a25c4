"""The console's billing pages, for operators: the partner towns' figures and the host's cost
recovery, a town's account (created, refused next to its field), a draft prepared from the
hours, completed, issued, paid in parts by cheque, corrected by a credit note; the invoice list
and its CSV. Implementation specialists see none of it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest

from billing import selectors, services
from billing.models import CatalogItem, HostBillingProfile, Invoice, InvoiceStatus
from onboarding.models import AuditEntry
from tests.billing.conftest import hours
from tests.onboarding.console_helpers import console_client

pytestmark = pytest.mark.django_db
BILLING = "/console/facturation/"


@pytest.fixture
def operator():
    return console_client()


def _invoice_of(response) -> int:
    return int(re.search(r"/factures/(\d+)/", response["Location"]).group(1))


def test_specialists_and_visitors_are_kept_out(client, levis):
    specialist = console_client("specialiste@relais.quebec", "specialist")

    assert specialist.get(BILLING).status_code == 403
    assert specialist.get(f"{BILLING}comptes/{levis.slug}/").status_code == 403
    assert client.get(BILLING, HTTP_HOST="localhost").status_code == 302


def test_an_account_is_created_with_its_errors_next_to_the_field(operator, levis):
    refused = operator.post(
        f"{BILLING}comptes/{levis.slug}/",
        {"action": "account", "contact_name": "Finances", "contact_email": "pas-un-courriel",
         "address": "2175, chemin du Fleuve", "payment_terms_days": "30", "language": "fr"},
    )  # fmt: skip
    saved = operator.post(
        f"{BILLING}comptes/{levis.slug}/",
        {"action": "account", "contact_name": "Finances", "contact_email": "finances@levis.ca",
         "address": "2175, chemin du Fleuve", "payment_terms_days": "30", "language": "fr",
         "gst_number": "123456789RT0001"},
    )  # fmt: skip

    assert refused.status_code == 400
    assert 'value="pas-un-courriel"' in refused.text
    assert saved.status_code == 302
    assert levis.billing_account.gst_number == "123456789RT0001"
    assert AuditEntry.objects.filter(action="billing.account_save").exists()


def test_a_draft_from_the_hours_is_completed_issued_paid_and_credited(operator, book, project):
    HostBillingProfile.objects.create(
        host=project.host, legal_name="Ville de Laval", address="1, place du Souvenir",
        gst_number="111", qst_number="222", declared_investment_cents=650_000_000,
    )  # fmt: skip
    hours(project, date(2026, 11, 3), "formation", "2")
    account_page = f"{BILLING}comptes/{project.municipality.slug}/"

    prepared = operator.post(account_page, {"action": "implementation", "until": "2026-11-30"})
    pk = _invoice_of(prepared)
    page = f"{BILLING}factures/{pk}/"
    actions = f"{page}actions/"
    bad_line = operator.post(
        actions, {"action": "line", "description_fr": "Remise", "quantity": "1", "unit": "abc"}
    )
    operator.post(
        actions, {"action": "line", "description_fr": "Remise de bienvenue", "quantity": "1",
                  "unit": "-500,00"},
    )  # fmt: skip
    operator.post(actions, {"action": "issue"})
    invoice = Invoice.objects.get(pk=pk)
    overpaid = operator.post(
        actions, {"action": "payment", "amount": "999999", "method": "cheque",
                  "received_on": "2026-12-05"},
    )  # fmt: skip
    operator.post(
        actions, {"action": "payment", "amount": "1000,00", "method": "cheque",
                  "received_on": "2026-12-05", "reference": "Chèque 1203"},
    )  # fmt: skip
    credited = operator.post(actions, {"action": "credit", "amount": "100", "reason": "Erreur"})
    shown = operator.get(page)

    assert prepared.status_code == 302
    assert bad_line.status_code == 400
    assert "Saisissez un montant en dollars" in bad_line.text
    assert invoice.number == "FAC-2026-00001"
    # $5,000 fixed + 2 h × $95 − $500 = $4,690.00; GST $234.50; QST $467.83.
    assert (invoice.subtotal_cents, invoice.total_cents) == (469_000, 539_233)
    assert overpaid.status_code == 400
    assert "dépasse le solde" in unescape(overpaid.text)
    assert "5\u202f392,33\u00a0$" in shown.text  # the total as a reader writes it
    assert "Chèque 1203" in shown.text
    note = Invoice.objects.get(pk=_invoice_of(credited))
    assert note.status == InvoiceStatus.DRAFT
    assert note.total_cents == -(10_000 + 500 + 998)
    listing = operator.get(BILLING)
    assert "Ville de Laval" in unescape(listing.text)
    assert "1\u202f000,00\u00a0$" in listing.text  # collected


def test_the_list_filters_and_exports_csv(operator, book, project):
    for start in (date(2026, 11, 1), date(2026, 12, 1)):
        draft = services.subscription_draft(
            actor=None, project=project, period_start=start, today=date(2026, 12, 1)
        )
        if start.month == 11:
            services.invoice_issue(actor=None, invoice=draft, today=date(2026, 12, 1))

    drafts = operator.get(f"{BILLING}factures/", {"status": "draft"})
    exported = operator.get(f"{BILLING}factures/", {"status": "open", "format": "csv"})

    assert drafts.status_code == 200
    assert "Brouillon n°" in drafts.text
    assert "FAC-2026-00001" not in drafts.text
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("numero,nature,municipalite,statut")
    assert len(lines) == 2
    assert lines[1].startswith("FAC-2026-00001,invoice,")
    # $2,625.00 (21 days of 30 of $3,750), GST $131.25, QST $261.84: amounts in dollars.
    assert lines[1].endswith(",2625.00,131.25,261.84,3018.09,0.00,0.00,3018.09")


def test_the_recovery_report_projects_the_break_even_month(operator, book, project):
    HostBillingProfile.objects.create(
        host=project.host, legal_name="Ville de Laval", address="1, place du Souvenir",
        gst_number="111", qst_number="222", declared_investment_cents=10_000_000,
    )  # fmt: skip
    today = date(2026, 12, 15)
    for start in (date(2026, 11, 1), date(2026, 12, 1)):
        draft = services.subscription_draft(
            actor=None, project=project, period_start=start, today=today
        )
        issued = services.invoice_issue(actor=None, invoice=draft, today=start)
        services.payment_record(
            actor=None, invoice=issued, amount_cents=issued.total_cents, method="eft",
            received_on=start,
        )  # fmt: skip

    report = selectors.recovery_report(host=project.host, today=today)
    page = operator.get(f"{BILLING}recuperation/")

    assert [row.month for row in report.months] == [date(2026, 11, 1), date(2026, 12, 1)]
    # $3,018.09 and $4,311.56 collected: $3,664.82 a month on average; $92,670.35 to go.
    assert report.monthly_pace_cents == 366_482
    assert report.break_even == date(2029, 2, 1)  # 26 months after December 2026
    assert page.status_code == 200
    assert "février 2029" in page.text
    assert "<svg" in page.text
    assert "<script" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_a_new_price_book_version_is_made_from_the_current_one(operator, book, host):
    page = operator.get(f"{BILLING}grilles/{host.slug}/")
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    both = data | {"effective_from": "2027-01-01", "flat_standard": "100,00"}
    data |= {"effective_from": "2027-01-01", "rate_analyse": "130,00", "rate_formation": ""}

    refused = operator.post(f"{BILLING}grilles/{host.slug}/", both)
    saved = operator.post(f"{BILLING}grilles/{host.slug}/", data)

    assert page.status_code == 200
    assert data["fixed"] == "5000,00"
    assert data["per_resident_standard"] == Decimal("2.5")
    assert refused.status_code == 400
    assert "pas les deux" in refused.text
    assert saved.status_code == 302, saved.context["form"].errors
    newest = host.price_books.get(version=2)
    assert dict(newest.rates.values_list("activity", "hourly_cents")) == {
        "analyse": 13_000,
        "configuration": 10_000,
    }
    assert list(newest.plans.values_list("plan", "basis", "amount", "minimum_cents")) == [
        ("standard", "per_resident", 250, 100_000)
    ]
    assert newest.implementation_fixed_cents == 500_000
    assert host.price_books.get(version=1).rates.get(activity="analyse").hourly_cents == 12_000


def test_an_item_of_the_drafts_price_book_is_added_at_the_books_price(operator, book, project):
    training = CatalogItem.objects.create(
        price_book=book, code="formation-sur-place", label_fr="Journée de formation sur place",
        label_en="On-site training day", unit_cents=120_000,
    )  # fmt: skip
    newer = services.price_book_create(
        actor=None, host=book.host, effective_from=date(2027, 1, 1),
        implementation_fixed_cents=0, rates={}, plans=[],
        items=[{"code": "import", "label_fr": "Import de données", "unit_cents": 50_000}],
    )  # fmt: skip
    other_book_item = newer.items.get()
    hours(project, date(2026, 11, 3), "formation", "2")
    prepared = operator.post(
        f"{BILLING}comptes/{project.municipality.slug}/",
        {"action": "implementation", "until": "2026-11-30"},
    )
    pk = _invoice_of(prepared)
    actions = f"{BILLING}factures/{pk}/actions/"
    page = operator.get(f"{BILLING}factures/{pk}/")
    added = operator.post(
        actions, {"action": "item", "item": str(training.pk), "item_quantity": "1,5"}
    )
    foreign = operator.post(
        actions, {"action": "item", "item": str(other_book_item.pk), "item_quantity": "1"}
    )
    no_quantity = operator.post(
        actions, {"action": "item", "item": str(training.pk), "item_quantity": "0"}
    )
    invoice = Invoice.objects.get(pk=pk)

    assert "Journée de formation sur place — 1\u202f200,00\u00a0$" in page.text
    assert "Import de données" not in page.text  # only the draft's own book
    assert added.status_code == 302
    line = invoice.lines.get(kind="item")
    assert (line.description_fr, line.description_en) == (
        "Journée de formation sur place",
        "On-site training day",
    )
    assert (line.quantity, line.unit_cents, line.amount_cents) == (Decimal("1.5"), 120_000, 180_000)
    # $5,000 fixed + 2 h × $95 + 1.5 × $1,200.
    assert invoice.subtotal_cents == 500_000 + 19_000 + 180_000
    assert foreign.status_code == no_quantity.status_code == 400
    assert invoice.lines.filter(kind="item").count() == 1
    assert AuditEntry.objects.filter(action="billing.line_add").count() == 1
