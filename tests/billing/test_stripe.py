"""Stripe, through the official SDK with a recording HTTP client (Stripe cannot be reached from
here): what Relais sends for an issued invoice (the customer with its tax ids, the items to the
cent, finalize, send), each call's idempotency key, and what a timeout, a rate limit, a 500, a
declined card or an invalid request do to the invoice; then the webhooks, signed with the SDK's
own scheme: refused when the signature is missing, wrong or stale, applied once."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import stripe
from django.test import Client, override_settings

from billing import services
from billing.models import Invoice, InvoiceStatus, Payment, StripeEvent
from billing.stripe_gateway import invoice_sync
from billing.tasks import RETRY_MINUTES
from tests.billing.conftest import TODAY
from tests.billing.stripe_fake import (
    CARD_DECLINED,
    INVALID,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    RecordingStripe,
)

pytestmark = pytest.mark.django_db
SECRET = "whsec_relais_tests"
STRIPE_ON = {"STRIPE_SECRET_KEY": "sk_test_relais", "STRIPE_WEBHOOK_SECRET": SECRET}


@pytest.fixture
def issued(book, project):
    draft = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    return services.invoice_issue(actor=None, invoice=draft, today=TODAY)


@override_settings(**STRIPE_ON)
def test_an_issued_invoice_is_sent_with_its_items_to_the_cent(issued):
    fake = RecordingStripe()

    result = invoice_sync(invoice_id=issued.pk, http_client=fake)

    assert result.state == "sent"
    assert [call.path for call in fake.calls] == [
        "/v1/customers",
        "/v1/invoices",
        "/v1/invoiceitems",
        "/v1/invoiceitems",
        "/v1/invoiceitems",
        "/v1/invoices/in_1/finalize",
        "/v1/invoices/in_1/send",
    ]
    customer, invoice = fake.calls[0].params, fake.calls[1].params
    assert customer["tax_id_data[0][type]"] == "ca_gst_hst"
    assert customer["tax_id_data[0][value]"] == "123456789RT0001"
    assert customer["tax_id_data[1][type]"] == "ca_qst"
    assert (invoice["collection_method"], invoice["days_until_due"]) == ("send_invoice", "30")
    assert [call.params["amount"] for call in fake.calls[2:5]] == ["375000", "18750", "37406"]
    line = issued.lines.get()
    assert fake.keys() == [
        f"relais-customer-{issued.account_id}",
        f"relais-invoice-{issued.pk}-create",
        f"relais-invoice-{issued.pk}-item-line-{line.pk}",
        f"relais-invoice-{issued.pk}-item-gst",
        f"relais-invoice-{issued.pk}-item-qst",
        f"relais-invoice-{issued.pk}-finalize",
        f"relais-invoice-{issued.pk}-send",
    ]
    issued.refresh_from_db()
    assert (issued.stripe_state, issued.stripe_invoice_id) == ("sent", "in_1")
    assert issued.stripe_url.startswith("https://invoice.stripe.com/")
    assert issued.account.__class__.objects.get().stripe_customer_id == "cus_levis"
    # Nothing twice: a second run changes nothing and calls nobody.
    assert invoice_sync(invoice_id=issued.pk, http_client=fake).state == "skipped"
    assert len(fake.calls) == 7


@pytest.mark.parametrize("failure", [TIMEOUT, RATE_LIMITED, SERVER_ERROR])
@override_settings(**STRIPE_ON)
def test_a_passing_error_leaves_it_pending_and_a_retry_completes_it_once(issued, failure):
    fake = RecordingStripe(fail_at={3: failure})  # the first item's call fails once
    first = invoice_sync(invoice_id=issued.pk, http_client=fake)
    issued.refresh_from_db()
    pending = issued.stripe_state

    second = invoice_sync(invoice_id=issued.pk, http_client=fake)

    assert first.state == "pending"
    assert pending == "pending"
    assert second.state == "sent"
    created = [call for call in fake.calls if call.path in ("/v1/customers", "/v1/invoices")]
    assert len(created) == 2  # one customer, one invoice: the keys made the retry safe
    assert sum(fake.items.values()) == issued.total_cents


@pytest.mark.parametrize("refusal", [CARD_DECLINED, INVALID])
@override_settings(**STRIPE_ON)
def test_a_refusal_marks_it_failed_with_stripes_message(issued, refusal):
    fake = RecordingStripe(failures=[refusal])

    result = invoice_sync(invoice_id=issued.pk, http_client=fake)

    issued.refresh_from_db()
    assert result.state == "failed"
    assert issued.stripe_state == "failed"
    assert issued.stripe_error == refusal[1]["error"]["message"]
    assert issued.status == InvoiceStatus.OPEN  # the ledger's invoice stands


def test_without_a_key_stripe_is_off_and_the_ledger_works_alone(issued):
    assert issued.stripe_state == ""
    assert invoice_sync(invoice_id=issued.pk, http_client=RecordingStripe()).state == "skipped"


@override_settings(**STRIPE_ON)
def test_issuing_with_stripe_on_queues_the_sending(book, project, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "billing.services.stripe_send_enqueue", lambda **kwargs: queued.append(kwargs)
    )
    draft = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )

    issued = services.invoice_issue(actor=None, invoice=draft, today=TODAY)

    assert issued.stripe_state == "pending"
    assert queued == [{"invoice_id": issued.pk}]
    assert len(RETRY_MINUTES) == 8


# --- Webhooks ------------------------------------------------------------------------------------
def _event(event_id: str, kind: str, obj: dict, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": created or int(time.time()),
            "data": {"object": obj},
        }
    )


def _post(payload: str, *, signature: str | None = "sign", timestamp: int | None = None):
    headers = {}
    if signature == "sign":
        headers["HTTP_STRIPE_SIGNATURE"] = (
            stripe.WebhookSignature.generate_signature_header(
                payload, SECRET, timestamp=timestamp or int(time.time())
            )
            if hasattr(stripe.WebhookSignature, "generate_signature_header")
            else ""
        )
    elif signature is not None:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return Client(HTTP_HOST="localhost").post(
        "/stripe/webhook/", payload, content_type="application/json", **headers
    )


@override_settings(**STRIPE_ON)
def test_a_webhook_without_a_good_signature_is_refused_and_nothing_recorded(issued):
    payload = _event("evt_1", "invoice.paid", {"id": "in_1", "amount_paid": 1})

    missing = _post(payload, signature=None)
    wrong = _post(payload, signature="t=1,v1=0000")
    stale = _post(payload, timestamp=int(time.time()) - 3600)

    assert missing.status_code == wrong.status_code == stale.status_code == 400
    assert not StripeEvent.objects.exists()


@override_settings(**STRIPE_ON)
def test_invoice_paid_is_applied_once_however_often_it_comes(issued):
    Invoice.objects.filter(pk=issued.pk).update(stripe_invoice_id="in_1")
    payload = _event("evt_paid", "invoice.paid", {"id": "in_1", "amount_paid": issued.total_cents})

    first = _post(payload)
    again = _post(payload)

    issued.refresh_from_db()
    assert first.json()["outcome"] == "paid"
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert issued.status == InvoiceStatus.PAID
    assert Payment.objects.filter(invoice=issued).count() == 1
    assert StripeEvent.objects.count() == 1


@override_settings(**STRIPE_ON)
def test_events_out_of_order_are_harmless(issued):
    Invoice.objects.filter(pk=issued.pk).update(stripe_invoice_id="in_1")
    account = issued.account
    account.stripe_customer_id = "cus_levis"
    account.save()
    now = int(time.time())

    paid = _post(_event("evt_a", "invoice.paid", {"id": "in_1", "amount_paid": issued.total_cents}))
    voided_after_paid = _post(_event("evt_b", "invoice.voided", {"id": "in_1"}))
    deleted = _post(
        _event("evt_c", "customer.subscription.deleted",
               {"id": "sub_1", "customer": "cus_levis", "status": "canceled"}, now),
    )  # fmt: skip
    older_update = _post(
        _event("evt_d", "customer.subscription.updated",
               {"id": "sub_1", "customer": "cus_levis", "status": "active"}, now - 60),
    )  # fmt: skip
    unknown = _post(_event("evt_e", "invoice.paid", {"id": "in_elsewhere", "amount_paid": 5}))

    issued.refresh_from_db()
    account.refresh_from_db()
    assert paid.json()["outcome"] == "paid"
    assert voided_after_paid.json()["outcome"].startswith("not voided")
    assert issued.status == InvoiceStatus.PAID
    assert deleted.json()["outcome"] == "subscription canceled"
    assert older_update.json()["outcome"] == "older than the last one applied"
    assert account.stripe_subscription_status == "canceled"
    assert unknown.json()["outcome"] == "unknown invoice"


def test_the_webhook_is_not_there_while_stripe_is_off():
    response = Client(HTTP_HOST="localhost").post("/stripe/webhook/", "{}", "application/json")

    assert response.status_code == 404


@override_settings(**STRIPE_ON)
def test_money_paid_at_stripe_after_a_cheque_is_flagged_to_give_back(issued):
    Invoice.objects.filter(pk=issued.pk).update(stripe_invoice_id="in_1")
    services.payment_record(
        actor=None, invoice=issued, amount_cents=issued.total_cents, method="cheque",
        received_on=TODAY,
    )  # fmt: skip

    response = _post(
        _event("evt_late", "invoice.paid", {"id": "in_1", "amount_paid": issued.total_cents})
    )

    issued.refresh_from_db()
    assert response.json()["outcome"] == "overpaid"
    assert issued.stripe_error.startswith("Trop-perçu chez Stripe : 4")
    assert Payment.objects.filter(invoice=issued).count() == 1


@override_settings(**STRIPE_ON)
def test_the_sweep_sends_what_is_still_pending(issued, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from billing import stripe_gateway

    fake = RecordingStripe()
    monkeypatch.setattr(
        stripe_gateway,
        "gateway",
        lambda http_client=None: stripe_gateway.StripeGateway(
            stripe.StripeClient("sk_test_relais", http_client=fake)
        ),
    )
    Invoice.objects.filter(pk=issued.pk).update(stripe_state="pending")
    output = StringIO()

    told = []
    monkeypatch.setattr("billing.tasks.stripe_settle_enqueue", lambda **kw: told.append(kw))
    call_command("stripe_sync_pending", stdout=output)
    services.payment_record(
        actor=None, invoice=issued, amount_cents=1_000, method="cheque", received_on=TODAY
    )  # while it waited (in a real outage)
    Invoice.objects.filter(pk=issued.pk).update(stripe_state="pending")
    call_command("stripe_sync_pending", stdout=StringIO())

    issued.refresh_from_db()
    assert output.getvalue().strip() == "sent: 1"
    assert issued.stripe_state == "sent"
    assert len(fake.calls[:7]) == 7
    # Nothing to tell after the first sending; the cheque, after the second.
    assert told == [{"invoice_id": issued.pk}]


@override_settings(**STRIPE_ON)
def test_stripe_is_told_what_the_ledger_voided_or_settled_without_it(issued, monkeypatch):
    from billing.stripe_gateway import invoice_settle_sync

    told = []
    monkeypatch.setattr(
        "billing.services.stripe_settle_enqueue", lambda **kwargs: told.append(kwargs)
    )
    fake = RecordingStripe()
    invoice_sync(invoice_id=issued.pk, http_client=fake)
    issued.refresh_from_db()

    services.payment_record(
        actor=None, invoice=issued, amount_cents=1_000, method="cheque", received_on=TODAY
    )  # partly paid: Stripe then asks for the balance only
    partly = invoice_settle_sync(invoice_id=issued.pk, http_client=fake)
    partly_again = invoice_settle_sync(invoice_id=issued.pk, http_client=fake)
    services.payment_record(
        actor=None, invoice=issued, amount_cents=issued.total_cents - 1_000, method="eft",
        received_on=TODAY,
    )  # fmt: skip
    settled = invoice_settle_sync(invoice_id=issued.pk, http_client=fake)
    again = invoice_settle_sync(invoice_id=issued.pk, http_client=fake)

    assert told == [{"invoice_id": issued.pk}] * 2  # at each payment
    assert (partly.state, partly.detail) == ("settled", "reduced")
    assert partly_again.state == "skipped"  # nothing more settled since
    reduced = [call for call in fake.calls if call.path == "/v1/credit_notes"]
    assert len(reduced) == 1
    assert (reduced[0].params["invoice"], reduced[0].params["amount"]) == ("in_1", "1000")
    assert reduced[0].params["email_type"] == "none"
    assert reduced[0].idempotency_key == f"relais-invoice-{issued.pk}-reduce-to-1000"
    assert (settled.state, settled.detail) == ("settled", "paid out of band")
    pay = [call for call in fake.calls if call.path == "/v1/invoices/in_1/pay"]
    assert len(pay) == 1  # the second time, Stripe said it was paid: nothing more sent
    assert pay[0].params == {"paid_out_of_band": "true"}
    assert pay[0].idempotency_key == f"relais-invoice-{issued.pk}-paid-out-of-band"
    assert again.state == "skipped"  # paid at Stripe now: nothing left to tell


@override_settings(**STRIPE_ON)
def test_a_void_is_told_to_stripe_and_a_refusal_is_shown(issued, monkeypatch):
    from billing.stripe_gateway import invoice_settle_sync

    monkeypatch.setattr("billing.services.stripe_settle_enqueue", lambda **kwargs: None)
    fake = RecordingStripe()
    invoice_sync(invoice_id=issued.pk, http_client=fake)
    services.invoice_void(actor=None, invoice=issued, reason="En double")
    refused = RecordingStripe(failures=[INVALID])

    failed = invoice_settle_sync(invoice_id=issued.pk, http_client=refused)
    voided = invoice_settle_sync(invoice_id=issued.pk, http_client=fake)

    issued.refresh_from_db()
    assert failed.state == "failed"
    assert voided.detail == "voided"
    assert fake.calls[-1].path == "/v1/invoices/in_1/void"
    assert fake.calls[-1].idempotency_key == f"relais-invoice-{issued.pk}-void"


@override_settings(**STRIPE_ON)
def test_a_settling_that_finds_the_invoice_busy_tries_again(issued, monkeypatch):
    from billing.stripe_gateway import SyncResult
    from billing.tasks import stripe_settle_invoice

    again = []
    monkeypatch.setattr(
        "billing.tasks.invoice_settle_sync", lambda **_: SyncResult("busy")
    )  # a worker is sending it
    monkeypatch.setattr("billing.tasks.stripe_settle_enqueue", lambda **kw: again.append(kw))

    state = stripe_settle_invoice.call(issued.pk, 1)
    last = stripe_settle_invoice.call(issued.pk, len(RETRY_MINUTES) + 1)

    assert (state, last) == ("busy", "busy")
    assert [(kw["attempt"], kw["delay"].total_seconds()) for kw in again] == [(2, 60.0)]


@override_settings(**STRIPE_ON)
def test_a_refused_settling_keeps_the_note_of_money_to_give_back(issued, monkeypatch):
    from billing.stripe_gateway import invoice_settle_sync

    monkeypatch.setattr("billing.services.stripe_settle_enqueue", lambda **kwargs: None)
    invoice_sync(invoice_id=issued.pk, http_client=RecordingStripe())
    note = "Trop-perçu chez Stripe : 10,00 $ à rembourser."
    Invoice.objects.filter(pk=issued.pk).update(stripe_error=note)
    services.payment_record(
        actor=None, invoice=issued, amount_cents=1_000, method="cheque", received_on=TODAY
    )

    failed = invoice_settle_sync(
        invoice_id=issued.pk, http_client=RecordingStripe(failures=[INVALID])
    )

    issued.refresh_from_db()
    assert failed.state == "failed"
    assert issued.stripe_error == note
