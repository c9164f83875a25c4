"""A town's subscription billed by Stripe, the ledger still the source of truth: the console
asks, a task starts the subscription at Stripe from the next period (the ledger bills the ones
before); each period Stripe drafts (`invoice.created`) is numbered, taxed to the cent and sent
by the ledger, corrected when the price changed, voided at Stripe when the ledger already
billed it; stopping it gives the periods back to the ledger's schedule. Every call recorded
through the SDK's own HTTP client seam, every webhook signed with the SDK's scheme."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from billing import services
from billing.errors import BillingError
from billing.models import BillingAccount, Invoice, InvoiceStatus, StripeEvent
from billing.stripe_gateway import (
    SyncResult,
    invoice_discard_sync,
    invoice_hold_sync,
    invoice_settle_sync,
    invoice_sync,
    subscription_sync,
)
from billing.tasks import RETRY_MINUTES, stripe_subscription
from tests.billing.stripe_fake import AUTHENTICATION, INVALID, TIMEOUT, RecordingStripe
from tests.billing.test_console_pages import BILLING
from tests.billing.test_stripe import STRIPE_ON, _event, _post
from tests.onboarding.console_helpers import console_client

pytestmark = pytest.mark.django_db
QUEBEC = ZoneInfo("America/Toronto")
TODAY = date(2026, 12, 6)


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=QUEBEC).timestamp())


def _noon(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=QUEBEC).timestamp())


@pytest.fixture
def holds(monkeypatch):
    """The Stripe the webhook holds drafts at (the SDK with the recording HTTP client)."""
    fake = RecordingStripe()
    held = partial(invoice_hold_sync, http_client=fake)
    monkeypatch.setattr("billing.webhooks.invoice_hold_sync", held)
    return fake


@pytest.fixture
def queued(monkeypatch):
    """What the services queue for the worker, by task (the tests run each one themselves)."""
    found: dict[str, list] = {"subscription": [], "send": [], "discard": [], "settle": []}
    for name, target in (
        ("subscription", "billing.services.stripe_subscription_enqueue"),
        ("send", "billing.services.stripe_send_enqueue"),
        ("discard", "billing.services.stripe_discard_enqueue"),
        ("settle", "billing.services.stripe_settle_enqueue"),
    ):
        monkeypatch.setattr(target, lambda _name=name, **kwargs: found[_name].append(kwargs))
    return found


@pytest.fixture
def running(book, project):
    """Lévis's subscription, billed by Stripe from 1 January 2027 at $3,750 a month."""
    BillingAccount.objects.filter(municipality=project.municipality).update(
        stripe_customer_id="cus_levis",
        stripe_subscription_id="sub_levis",
        stripe_subscription_status="active",
        stripe_subscription_from=date(2027, 1, 1),
        stripe_subscription_price_cents=375_000,
        stripe_subscription_interval="month",
    )
    return BillingAccount.objects.get(municipality=project.municipality)


def _cycle(invoice_id: str, start: date, end: date, subtotal: int, subscription="sub_levis"):
    return {
        "id": invoice_id,
        "object": "invoice",
        "status": "draft",
        "billing_reason": "subscription_cycle",
        "subtotal": subtotal,
        "parent": {"subscription_details": {"subscription": subscription}},
        "lines": {"data": [{"period": {"start": _noon(start), "end": _noon(end)}}]},
    }


@override_settings(**STRIPE_ON)
def test_a_subscription_starts_at_stripe_from_the_next_period(book, project, queued):
    account = services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    with pytest.raises(BillingError) as twice:
        services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    fake = RecordingStripe()
    started = subscription_sync(account_id=account.pk, http_client=fake)
    again = subscription_sync(account_id=account.pk, http_client=fake)
    drafted = services.subscription_drafts_due(today=date(2027, 2, 3))

    assert queued["subscription"] == [{"account_id": account.pk}]
    assert twice.value.code == "subscription_exists"
    assert (started.state, again.state) == ("started", "skipped")
    assert [(call.method, call.path) for call in fake.calls] == [
        ("post", "/v1/customers"),
        ("post", "/v1/products"),
        ("get", "/v1/subscriptions"),  # none made for an earlier request
        ("post", "/v1/subscriptions"),
    ]
    sent = fake.calls[3].params
    assert (sent["collection_method"], sent["days_until_due"]) == ("send_invoice", "30")
    assert sent["items[0][price_data][unit_amount]"] == "375000"  # 150,000 × 2.5 ¢
    assert sent["items[0][price_data][recurring][interval]"] == "month"
    assert sent["items[0][price_data][product]"] == "prod_levis"
    assert sent["billing_cycle_anchor"] == str(_noon(date(2027, 1, 1)))  # noon: DST-proof
    assert sent["proration_behavior"] == "none"
    requested = int(account.stripe_subscription_requested_at.timestamp())
    assert fake.keys() == [
        f"relais-customer-{account.pk}",
        f"relais-product-{account.pk}",
        "",
        f"relais-subscription-{account.pk}-start-{requested}",
    ]
    account.refresh_from_db()
    assert (account.stripe_subscription_id, account.stripe_subscription_item_id) == (
        "sub_levis",
        "si_levis",
    )
    assert (account.stripe_subscription_status, account.stripe_subscription_request) == (
        "active",
        "",
    )
    # The ledger still drafts November and December; January and February are Stripe's.
    assert [d.period_start for d in drafted if d.invoice] == [date(2026, 11, 1), date(2026, 12, 1)]


@override_settings(**STRIPE_ON)
def test_a_passing_error_is_retried_and_a_refusal_is_shown_on_the_account(book, project, queued):
    account = services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    fake = RecordingStripe(failures=[TIMEOUT])

    pending = subscription_sync(account_id=account.pk, http_client=fake)
    started = subscription_sync(account_id=account.pk, http_client=fake)
    BillingAccount.objects.filter(pk=account.pk).update(
        stripe_subscription_id="", stripe_subscription_status=""
    )
    services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    refused = subscription_sync(
        account_id=account.pk, http_client=RecordingStripe(failures=[INVALID])
    )
    page = console_client().get(f"{BILLING}comptes/{project.municipality.slug}/")

    assert (pending.state, started.state, refused.state) == ("pending", "started", "failed")
    # The retry sent the customer again under the same key: Stripe answers the first one.
    assert fake.keys()[0] == fake.keys()[1] == f"relais-customer-{account.pk}"
    account.refresh_from_db()
    assert account.stripe_subscription_request == ""  # asked again, once corrected
    assert "Invalid tax id." in page.text
    assert "Faire facturer l'abonnement par Stripe" in page.text


@override_settings(**STRIPE_ON)
def test_stripes_draft_of_a_period_is_numbered_taxed_and_sent_by_the_ledger(running, queued, holds):
    payload = _event("evt_jan", "invoice.created", _cycle("in_jan", date(2027, 1, 1),
                                                          date(2027, 2, 1), 375_000))  # fmt: skip
    first = _post(payload)
    again = _post(payload)
    other_event = _post(_event("evt_jan_2", "invoice.created", _cycle(
        "in_jan", date(2027, 1, 1), date(2027, 2, 1), 375_000)))  # fmt: skip
    stranger = _post(_event("evt_x", "invoice.created", _cycle(
        "in_x", date(2027, 1, 1), date(2027, 2, 1), 1, subscription="sub_other")))  # fmt: skip
    invoice = Invoice.objects.get(stripe_invoice_id="in_jan")
    fake = RecordingStripe(prebilled={"in_jan": 375_000})
    sent = invoice_sync(invoice_id=invoice.pk, http_client=fake)

    assert first.json()["outcome"] == f"adopted as {invoice.number}"
    assert (again.json()["outcome"], other_event.json()["outcome"]) == (
        "duplicate",
        "already adopted",
    )
    assert stranger.json()["outcome"] == "unknown subscription"
    # Held at once, before the webhook answered: Stripe never finalizes it alone.
    assert [(c.path, c.params) for c in holds.calls] == [
        ("/v1/invoices/in_jan", {"auto_advance": "false"})
    ]
    # Safe to repeat, so no key of Relais's (Stripe would replay a 500 under it for a day).
    assert not holds.calls[0].idempotency_key.startswith("relais-")
    assert Invoice.objects.count() == 1
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.number.startswith("FAC-")
    line = invoice.lines.get()
    assert (line.period_start, line.period_end, line.amount_cents) == (
        date(2027, 1, 1),
        date(2027, 1, 31),
        375_000,
    )
    assert queued["send"] == [{"invoice_id": invoice.pk}]
    assert sent.state == "sent"
    assert [call.path for call in fake.calls] == [
        "/v1/invoices/in_jan",
        "/v1/invoiceitems",
        "/v1/invoiceitems",
        "/v1/invoices/in_jan/finalize",
        "/v1/invoices/in_jan/send",
    ]
    adopt = fake.calls[0].params
    assert (adopt["auto_advance"], adopt["number"]) == ("false", invoice.number)
    assert [call.params["amount"] for call in fake.calls[1:3]] == ["18750", "37406"]
    assert fake.keys()[0] == f"relais-invoice-{invoice.pk}-adopt"


@override_settings(**STRIPE_ON)
def test_a_changed_price_is_corrected_and_a_period_billed_already_is_voided_at_stripe(
    running, project, queued, holds
):
    services.subscription_draft(
        actor=None, project=project, period_start=date(2027, 2, 1), today=TODAY
    )
    # January drafted at Stripe at last year's $3,000; February billed by hand already.
    january = _post(_event("evt_jan", "invoice.created", _cycle(
        "in_jan", date(2027, 1, 1), date(2027, 2, 1), 300_000)))  # fmt: skip
    february = _post(_event("evt_feb", "invoice.created", _cycle(
        "in_feb", date(2027, 2, 1), date(2027, 3, 1), 375_000)))  # fmt: skip
    invoice = Invoice.objects.get(stripe_invoice_id="in_jan")
    fake = RecordingStripe(prebilled={"in_jan": 300_000, "in_feb": 375_000})
    sent = invoice_sync(invoice_id=invoice.pk, http_client=fake)
    discarding = len(fake.calls)
    discarded = invoice_discard_sync(stripe_invoice_id="in_feb", http_client=fake)
    running.refresh_from_db()

    assert january.json()["outcome"].startswith("adopted as FAC-")
    assert february.json()["outcome"] == "discarded"
    assert sent.state == "sent"
    assert [call.params.get("amount") for call in fake.calls[1:4]] == ["75000", "18750", "37406"]
    assert "Ajustement au prix de la grille" in fake.calls[1].params["description"]
    assert queued["discard"] == [{"stripe_invoice_id": "in_feb"}]
    # A subscription's draft cannot be deleted: held, finalized without e-mail, voided.
    assert discarded.state == "discarded"
    assert [(c.method, c.path) for c in fake.calls[discarding:]] == [
        ("get", "/v1/invoices/in_feb"),
        ("post", "/v1/invoices/in_feb"),
        ("post", "/v1/invoices/in_feb/finalize"),
        ("post", "/v1/invoices/in_feb/void"),
    ]
    assert fake.calls[discarding + 2].params == {"auto_advance": "false"}
    assert fake.state_of("in_feb") == "void"
    assert not Invoice.objects.filter(stripe_invoice_id="in_feb").exists()
    assert running.stripe_subscription_error == (
        "Période du 2027-02-01 non facturée chez Stripe : "
        "Cette période d'abonnement est déjà facturée."
    )


@override_settings(**STRIPE_ON)
def test_a_period_voided_before_it_was_completed_is_voided_at_stripe(running, queued, holds):
    _post(_event("evt_jan", "invoice.created", _cycle(
        "in_jan", date(2027, 1, 1), date(2027, 2, 1), 375_000)))  # fmt: skip
    invoice = Invoice.objects.get(stripe_invoice_id="in_jan")
    services.invoice_void(actor=None, invoice=invoice, reason="Entente renégociée")
    fake = RecordingStripe(prebilled={"in_jan": 375_000})

    settled = invoice_settle_sync(invoice_id=invoice.pk, http_client=fake)
    skipped = invoice_sync(invoice_id=invoice.pk, http_client=fake)

    assert queued["settle"] == [{"invoice_id": invoice.pk}]
    assert (settled.state, settled.detail, skipped.state) == ("settled", "discarded", "skipped")
    assert fake.state_of("in_jan") == "void"
    assert "/v1/invoices/in_jan/send" not in [call.path for call in fake.calls]


@override_settings(**STRIPE_ON)
def test_a_draft_not_held_is_not_recorded_and_stripe_sends_it_again(running, queued, monkeypatch):
    down = RecordingStripe(failures=[TIMEOUT])
    held = partial(invoice_hold_sync, http_client=down)
    monkeypatch.setattr("billing.webhooks.invoice_hold_sync", held)
    payload = _event("evt_jan", "invoice.created", _cycle(
        "in_jan", date(2027, 1, 1), date(2027, 2, 1), 375_000))  # fmt: skip

    refused = _post(payload)
    nothing = (StripeEvent.objects.count(), Invoice.objects.count())
    again = _post(payload)

    assert refused.status_code == 503
    assert nothing == (0, 0)
    assert again.status_code == 200
    assert again.json()["outcome"].startswith("adopted as FAC-")


@override_settings(**STRIPE_ON)
def test_a_cycle_moved_by_daylight_saving_bills_its_own_month(running, queued, holds):
    # Anchored at midnight in summer time: in winter Stripe begins at 23:00 the day before.
    start = int(datetime(2026, 12, 31, 23, tzinfo=QUEBEC).timestamp())
    data = _cycle("in_jan", date(2027, 1, 1), date(2027, 2, 1), 375_000)
    data["lines"]["data"][0]["period"]["start"] = start

    adopted = _post(_event("evt_jan", "invoice.created", data))

    assert adopted.json()["outcome"].startswith("adopted as FAC-")
    line = Invoice.objects.get(stripe_invoice_id="in_jan").lines.get()
    assert (line.period_start, line.period_end) == (date(2027, 1, 1), date(2027, 1, 31))


@override_settings(**STRIPE_ON)
def test_stopping_it_cancels_at_stripe_and_the_ledger_drafts_again(running, queued):
    services.stripe_subscription_stop(actor=None, account=running)
    with pytest.raises(BillingError) as twice:
        services.stripe_subscription_stop(actor=None, account=running)
    fake = RecordingStripe()
    stopped = subscription_sync(account_id=running.pk, http_client=fake)
    running.refresh_from_db()
    drafted = services.subscription_drafts_due(today=date(2027, 1, 5))

    assert twice.value.code == "no_subscription"
    assert stopped.state == "canceled"
    requested = int(running.stripe_subscription_requested_at.timestamp())
    assert [(c.method, c.path, c.idempotency_key) for c in fake.calls] == [
        ("delete", "/v1/subscriptions/sub_levis",
         f"relais-subscription-{running.pk}-cancel-{requested}"),
    ]  # fmt: skip
    assert running.stripe_subscription_status == "canceled"
    assert date(2027, 1, 1) in [d.period_start for d in drafted if d.invoice]


@override_settings(**STRIPE_ON)
def test_a_request_stripe_never_answers_is_given_up_and_can_be_made_again(
    book, project, queued, monkeypatch
):
    account = services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    monkeypatch.setattr(
        "billing.tasks.subscription_sync", lambda **_: SyncResult("pending", "Request timed out")
    )

    stripe_subscription.call(account.pk, len(RETRY_MINUTES) + 1)
    account.refresh_from_db()
    again = services.stripe_subscription_start(actor=None, project=project, today=TODAY)

    assert account.stripe_subscription_request == ""
    assert account.stripe_subscription_error.startswith(
        "Stripe n'a pas répondu à la demande : abandonnée, à refaire."
    )
    assert services.stripe_bills_from(account) is None  # the ledger drafts the periods again
    assert again.stripe_subscription_request == "start"


def test_without_stripe_the_account_page_offers_nothing_and_refuses(book, project):
    operator = console_client()
    page = operator.get(f"{BILLING}comptes/{project.municipality.slug}/")
    asked = operator.post(
        f"{BILLING}comptes/{project.municipality.slug}/", {"action": "stripe_start"}, follow=True
    )

    assert "Abonnement facturé par Stripe" not in page.text
    assert "Stripe n&#x27;est pas configuré" in asked.text
    assert BillingAccount.objects.get().stripe_subscription_request == ""


@override_settings(**STRIPE_ON)
def test_the_console_asks_stripe_and_says_so(book, project, queued):
    operator = console_client()
    page = operator.get(f"{BILLING}comptes/{project.municipality.slug}/")
    asked = operator.post(
        f"{BILLING}comptes/{project.municipality.slug}/", {"action": "stripe_start"}, follow=True
    )

    assert "Faire facturer l'abonnement par Stripe" in page.text
    assert "Demande transmise à Stripe." in asked.text
    assert "Démarrage demandé à Stripe : à partir du 1 janvier 2027" in asked.text
    assert len(queued["subscription"]) == 1


@override_settings(**STRIPE_ON)
def test_a_subscription_made_for_a_lost_answer_is_taken_not_made_twice(book, project, queued):
    account = services.stripe_subscription_start(actor=None, project=project, today=TODAY)
    fake = RecordingStripe(
        subscriptions=[
            {"id": "sub_old", "object": "subscription", "status": "canceled",
             "metadata": {"relais_account": str(account.pk)}},
            {"id": "sub_other_town", "object": "subscription", "status": "active",
             "metadata": {"relais_account": "999"}},
            {"id": "sub_lost", "object": "subscription", "status": "active",
             "metadata": {"relais_account": str(account.pk)},
             "items": {"object": "list", "data": [{"id": "si_lost"}]}},
        ]
    )  # fmt: skip

    started = subscription_sync(account_id=account.pk, http_client=fake)
    account.refresh_from_db()

    assert started.state == "started"
    assert "post /v1/subscriptions" not in [f"{c.method} {c.path}" for c in fake.calls]
    assert (account.stripe_subscription_id, account.stripe_subscription_item_id) == (
        "sub_lost",
        "si_lost",
    )


@override_settings(**STRIPE_ON)
def test_a_hold_refused_adopts_nothing_and_a_key_refused_is_sent_again(
    running, queued, monkeypatch
):
    refusing = RecordingStripe(failures=[INVALID])
    monkeypatch.setattr(
        "billing.webhooks.invoice_hold_sync", partial(invoice_hold_sync, http_client=refusing)
    )
    refused = _post(_event("evt_jan", "invoice.created", _cycle(
        "in_jan", date(2027, 1, 1), date(2027, 2, 1), 375_000)))  # fmt: skip
    locked_out = RecordingStripe(failures=[AUTHENTICATION])
    monkeypatch.setattr(
        "billing.webhooks.invoice_hold_sync", partial(invoice_hold_sync, http_client=locked_out)
    )
    rotated = _post(_event("evt_feb", "invoice.created", _cycle(
        "in_feb", date(2027, 2, 1), date(2027, 3, 1), 375_000)))  # fmt: skip
    running.refresh_from_db()

    assert refused.json()["outcome"] == "not held"
    assert not Invoice.objects.exists()
    assert running.stripe_subscription_error.startswith(
        "Stripe a refusé de retenir son brouillon in_jan : Invalid tax id."
    )
    assert rotated.status_code == 503
    assert not StripeEvent.objects.filter(event_id="evt_feb").exists()


@override_settings(**STRIPE_ON)
def test_a_draft_stripe_finalized_already_is_voided_only(running):
    fake = RecordingStripe(states={"in_jan": "open"})

    discarded = invoice_discard_sync(stripe_invoice_id="in_jan", http_client=fake)

    assert discarded.state == "discarded"
    assert [(c.method, c.path) for c in fake.calls] == [
        ("get", "/v1/invoices/in_jan"),
        ("post", "/v1/invoices/in_jan/void"),
    ]
