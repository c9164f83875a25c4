"""Stripe's webhook events applied to the ledger, once each: an event is stored by its id in
the transaction that applies it, so a redelivery (or the same event twice at once: the second
waits on the id's unique index, then finds it) changes nothing. Events arriving out of order are
harmless: each one checks the ledger's state before changing it, and subscription events older
than the last one applied are kept but ignored."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import services
from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    StripeEvent,
)
from billing.money import money
from billing.stripe_gateway import QUEBEC, invoice_hold_sync
from onboarding.services import audit_record

logger = logging.getLogger(__name__)

HANDLED = frozenset(
    {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
DUPLICATE = "duplicate"


def stripe_event_apply(*, event: dict[str, Any], hold_refused: str = "") -> str:
    """Record and apply one verified event; returns what it did (`duplicate` the second time).
    `hold_refused`: Stripe's reason for not holding a subscription period's draft (see
    `stripe_event_prepare`)."""
    event_id = str(event.get("id") or "")
    if not event_id:
        return "no id"
    with transaction.atomic():
        try:
            with transaction.atomic():  # only the event's own row: its id is once
                record = StripeEvent.objects.create(
                    event_id=event_id, type=str(event.get("type", "")), payload=event
                )
        except IntegrityError:
            return DUPLICATE
        outcome = _apply(event, hold_refused) if record.type in HANDLED else "ignored"
        record.processed_at = timezone.now()
        record.outcome = outcome[:200]
        record.save(update_fields=["processed_at", "outcome"])
        audit_record(
            actor=None,
            action="billing.stripe_event",
            target=record.event_id,
            detail={"type": record.type, "outcome": record.outcome},
        )
    logger.info("stripe event: type=%s outcome=%s", record.type, outcome)
    return outcome


def _invoice_of(stripe_invoice: dict[str, Any]) -> Invoice | None:
    stripe_id = str(stripe_invoice.get("id") or "")
    if not stripe_id:
        return None
    return (
        Invoice.objects.select_for_update()
        .filter(stripe_invoice_id=stripe_id, kind=InvoiceKind.INVOICE)
        .first()
    )


def _apply(event: dict[str, Any], hold_refused: str = "") -> str:
    kind = event["type"]
    data = event.get("data", {}).get("object", {})
    if kind.startswith("customer.subscription."):
        return _subscription(event, data)
    if kind == "invoice.created":
        return _cycle(data, hold_refused)
    invoice = _invoice_of(data)
    if invoice is None:
        return "unknown invoice"
    if kind == "invoice.finalized":
        url = str(data.get("hosted_invoice_url") or "")
        Invoice.objects.filter(pk=invoice.pk).update(stripe_url=url[:500])
        return "finalized"
    if kind == "invoice.paid":
        if Payment.objects.filter(invoice=invoice, method=PaymentMethod.STRIPE).exists():
            return "already paid"
        paid = int(data.get("amount_paid") or 0)
        due = invoice.balance_cents if invoice.status == InvoiceStatus.OPEN else 0
        if paid > due:
            # Paid at Stripe after a cheque, a credit or a void in the ledger: the difference is
            # owed back to the town; the invoice's page says so.
            Invoice.objects.filter(pk=invoice.pk).update(
                stripe_error=f"Trop-perçu chez Stripe : {money(paid - due, 'fr')} à rembourser."
            )
        amount = min(paid, due)
        if amount <= 0:
            return "overpaid" if paid else "nothing paid"
        Payment.objects.create(
            invoice=invoice,
            method=PaymentMethod.STRIPE,
            amount_cents=amount,
            received_on=timezone.localdate(),
            reference=str(data.get("id", ""))[:100],
        )
        invoice.paid_cents += amount
        if invoice.balance_cents == 0:
            invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["paid_cents", "status", "updated_at"])
        return "paid"
    if kind == "invoice.payment_failed":
        Invoice.objects.filter(pk=invoice.pk).update(
            stripe_error="Paiement refusé chez Stripe."[:300]
        )
        return "payment failed"
    if kind == "invoice.voided":
        if invoice.status != InvoiceStatus.OPEN or invoice.paid_cents or invoice.credited_cents:
            return f"not voided ({invoice.status})"
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.VOID)
        return "voided"
    if kind == "invoice.marked_uncollectible":
        if invoice.status != InvoiceStatus.OPEN:
            return f"not uncollectible ({invoice.status})"
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.UNCOLLECTIBLE)
        return "uncollectible"
    return "ignored"


def _subscription(event: dict[str, Any], data: dict[str, Any]) -> str:
    account = (
        BillingAccount.objects.select_for_update()
        .filter(stripe_customer_id=str(data.get("customer", "")))
        .first()
    )
    if account is None:
        return "unknown customer"
    created = int(event.get("created") or 0)
    if created < account.stripe_subscription_event_at:
        return "older than the last one applied"
    status = "canceled" if event["type"].endswith(".deleted") else str(data.get("status", ""))
    account.stripe_subscription_id = str(data.get("id", ""))[:64]
    account.stripe_subscription_status = status[:32]
    account.stripe_subscription_event_at = created
    account.save(
        update_fields=[
            "stripe_subscription_id",
            "stripe_subscription_status",
            "stripe_subscription_event_at",
        ]
    )
    return f"subscription {status}"


def _subscription_of(stripe_invoice: dict[str, Any]) -> str:
    """The subscription an invoice bills: `parent.subscription_details.subscription` since
    Stripe's API of 2025-03-31, `subscription` before."""
    parent = stripe_invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return str(details.get("subscription") or stripe_invoice.get("subscription") or "")


@dataclass(frozen=True)
class Prepared:
    """What reaching Stripe before recording an event gave: `retry` (answer 503: nothing
    recorded, Stripe sends the event again), or a `refused` hold (the draft is no longer one)."""

    retry: str = ""
    refused: str = ""


def stripe_event_prepare(*, event: dict[str, Any]) -> Prepared:
    """What must reach Stripe before an event is recorded: a draft of a subscription period is
    held at once (Stripe would otherwise finalize and e-mail it alone within the hour). When
    Stripe cannot be reached (or the key is refused), the webhook answers 503 and records
    nothing: Stripe, which delays finalizing while its `invoice.created` is not acknowledged
    (up to 72 hours), sends it again. Redeliveries of a recorded event reach nobody."""
    data = event.get("data", {}).get("object", {})
    subscription = _subscription_of(data)
    if (
        event.get("type") != "invoice.created"
        or not subscription
        or data.get("billing_reason") != "subscription_cycle"
        or not BillingAccount.objects.filter(stripe_subscription_id=subscription).exists()
        or StripeEvent.objects.filter(event_id=str(event.get("id") or "")).exists()
        or Invoice.objects.filter(stripe_invoice_id=str(data.get("id") or "")).exists()
    ):
        return Prepared()
    held = invoice_hold_sync(stripe_invoice_id=str(data.get("id") or ""))
    if held.state == "pending":
        return Prepared(retry=held.detail or "Stripe unreachable")
    if held.state == "failed":
        return Prepared(refused=held.detail)
    return Prepared()


def _cycle(data: dict[str, Any], hold_refused: str = "") -> str:
    """A draft Stripe made for a period of a town's subscription: the ledger adopts it (see
    `services.stripe_cycle_adopt`). Stripe's other drafts (the ones Relais makes itself, a
    subscription's first invoice of nothing) are left alone."""
    subscription = _subscription_of(data)
    if not subscription or data.get("billing_reason") != "subscription_cycle":
        return "not a subscription period"
    stripe_id = str(data.get("id") or "")
    account = (
        BillingAccount.objects.select_for_update()
        .select_related("municipality")
        .filter(stripe_subscription_id=subscription)
        .first()
    )
    if account is None:
        return "unknown subscription"
    if Invoice.objects.filter(stripe_invoice_id=stripe_id).exists():
        return "already adopted"
    if hold_refused:
        # No longer a draft there (finalized by Stripe): the ledger cannot number or tax it.
        BillingAccount.objects.filter(pk=account.pk).update(
            stripe_subscription_error=(
                f"Stripe a refusé de retenir son brouillon {stripe_id} : {hold_refused} "
                "Vérifiez cette facture chez Stripe."
            )[:300]
        )
        return "not held"
    lines = (data.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") or {}) if lines else {}
    if not period.get("start"):
        return "no period"
    # Stripe keeps a cycle's UTC time of day, so daylight saving moves it an hour either way
    # (a midnight anchor becomes 23:00 the day before): the day is read two hours later.
    day = datetime.fromtimestamp(int(period["start"]) + 7200, tz=QUEBEC).date()
    adopted = services.stripe_cycle_adopt(
        account=account,
        stripe_invoice_id=stripe_id,
        period_start=services.subscription_period_holding(account=account, day=day),
        prebilled_cents=int(data.get("subtotal") or 0),
        today=timezone.localdate(),
    )
    return f"adopted as {adopted.number}" if adopted is not None else "discarded"
