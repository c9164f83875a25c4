"""The only module that speaks to Stripe (the official SDK, `stripe.StripeClient`). The local
ledger stays the source of truth: an issued invoice is copied to Stripe as a customer (with the
town's GST and QST numbers), an invoice sent by Stripe (`collection_method=send_invoice`) whose
items are the ledger's lines and taxes to the cent, then finalized and sent.

Every call carries an idempotency key derived from the business action (`relais-<what>-<id>`):
a retry after a timeout or a crash never bills twice. Every call has a timeout
(`STRIPE_TIMEOUT_SECONDS`). Errors are sorted: a passing one (a timeout, a rate limit, Stripe's
5xx) leaves the invoice `pending` for the task to retry; a refusal (an invalid request, a card
declined, an authentication error) marks it `failed` with Stripe's message for the operator.

Off until `STRIPE_SECRET_KEY` (or `STRIPE_API_KEY`) is set: `gateway()` is then None and the
ledger works alone (many towns pay by cheque or transfer)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
)
from billing.money import money

logger = logging.getLogger(__name__)
# Periods begin at midnight in Québec (the towns' time zone; a period is a calendar date).
QUEBEC = ZoneInfo("America/Toronto")

# Errors that may pass: the task tries again later.
TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
# Errors that will not: the operator reads Stripe's message on the invoice.
REFUSED = (
    stripe.InvalidRequestError,
    stripe.CardError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.IdempotencyError,
)


@dataclass(frozen=True)
class SyncResult:
    state: str  # "sent", "pending" (to retry), "failed", "skipped"
    detail: str = ""


class StripeGateway:
    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    # --- customers -------------------------------------------------------------------------
    def customer_ensure(self, account: BillingAccount) -> str:
        """The town's Stripe customer, made once (its id kept on the account)."""
        if account.stripe_customer_id:
            return account.stripe_customer_id
        tax_ids = [
            {"type": kind, "value": value}
            for kind, value in (("ca_gst_hst", account.gst_number), ("ca_qst", account.qst_number))
            if value
        ]
        params: dict[str, Any] = {
            "name": account.municipality.name,
            "email": account.contact_email,
            "preferred_locales": [f"{account.language}-CA"],
            "address": {"line1": account.address.splitlines()[0][:200], "country": "CA"},
            "metadata": {"relais_account": str(account.pk)},
        }
        if tax_ids:
            params["tax_id_data"] = tax_ids
        customer = self.client.v1.customers.create(
            params=cast(Any, params),
            options={"idempotency_key": f"relais-customer-{account.pk}"},
        )
        BillingAccount.objects.filter(pk=account.pk).update(stripe_customer_id=customer.id)
        account.stripe_customer_id = customer.id
        return customer.id

    # --- invoices --------------------------------------------------------------------------
    def invoice_send(self, invoice: Invoice) -> str:
        """Copy an issued invoice to Stripe and send it; returns Stripe's invoice id. Each step
        is idempotent, so a second run after a failure carries on where the first stopped."""
        account = invoice.account
        customer = self.customer_ensure(account)
        key = f"relais-invoice-{invoice.pk}"
        prebilled = invoice.stripe_prebilled_cents
        if prebilled is not None:
            # A period of the subscription: Stripe drafted it with the subscription's line.
            # First stop Stripe from finalizing it alone, and give it the ledger's number.
            self.client.v1.invoices.update(
                invoice.stripe_invoice_id,
                params={
                    "auto_advance": False,
                    "number": invoice.number or "",
                    "description": invoice.number or "",
                    "metadata": {"relais_invoice": str(invoice.pk), "number": invoice.number or ""},
                },
                options={"idempotency_key": f"{key}-adopt"},
            )
        elif not invoice.stripe_invoice_id:
            created = self.client.v1.invoices.create(
                params={
                    "customer": customer,
                    "collection_method": "send_invoice",
                    "days_until_due": max(account.payment_terms_days, 1),
                    "currency": "cad",
                    "auto_advance": False,
                    "description": invoice.number or "",
                    "metadata": {"relais_invoice": str(invoice.pk), "number": invoice.number or ""},
                },
                options={"idempotency_key": f"{key}-create"},
            )
            Invoice.objects.filter(pk=invoice.pk).update(stripe_invoice_id=created.id)
            invoice.stripe_invoice_id = created.id
        items: list[tuple[str, int, str]] = []
        for line in invoice.lines.all():
            if prebilled is not None and line.kind == LineKind.SUBSCRIPTION:
                # Stripe's line is there; only a price that changed since needs a correction.
                items.append(
                    (
                        f"line-{line.pk}-adjust",
                        line.amount_cents - prebilled,
                        f"Ajustement au prix de la grille — {line.description_fr}",
                    )
                )
                continue
            description = _describe(line.description_fr, line.quantity)
            items.append((f"line-{line.pk}", line.amount_cents, description))
        items += [
            ("gst", invoice.gst_cents, "TPS / GST 5 %"),
            ("qst", invoice.qst_cents, "TVQ / QST 9,975 %"),
        ]
        for suffix, amount, description in items:
            if amount == 0:
                continue
            self.client.v1.invoice_items.create(
                params={
                    "customer": customer,
                    "invoice": invoice.stripe_invoice_id,
                    "currency": "cad",
                    "amount": amount,
                    "description": description[:500],
                },
                options={"idempotency_key": f"{key}-item-{suffix}"},
            )
        finalized = self.client.v1.invoices.finalize_invoice(
            invoice.stripe_invoice_id,
            params={"auto_advance": False},
            options={"idempotency_key": f"{key}-finalize"},
        )
        if finalized.total != invoice.total_cents:
            raise stripe.InvalidRequestError(
                f"Stripe's total {money(finalized.total)} differs from the ledger's "
                f"{money(invoice.total_cents)}",
                param="amount",
            )
        sent = self.client.v1.invoices.send_invoice(
            invoice.stripe_invoice_id, options={"idempotency_key": f"{key}-send"}
        )
        Invoice.objects.filter(pk=invoice.pk).update(
            stripe_url=getattr(sent, "hosted_invoice_url", "") or ""
        )
        return invoice.stripe_invoice_id

    def invoice_settle(self, invoice: Invoice) -> str:
        """Tell Stripe what the ledger settled without it: an invoice voided; paid by cheque,
        transfer or credit notes (marked paid out of band, so that its payment page stops
        asking); or settled in part while it stays open (a Stripe credit note of what was
        settled since the last one, without e-mail: its payment page then asks for the
        ledger's balance)."""
        key = f"relais-invoice-{invoice.pk}"
        at_stripe = self.client.v1.invoices.retrieve(invoice.stripe_invoice_id).status
        if at_stripe != "open":
            # Paid there meanwhile (the webhook records it, and flags what is owed back), or
            # voided there: nothing left to tell.
            return "nothing to tell"
        if invoice.status == InvoiceStatus.VOID:
            self.client.v1.invoices.void_invoice(
                invoice.stripe_invoice_id, options={"idempotency_key": f"{key}-void"}
            )
            return "voided"
        if invoice.status == InvoiceStatus.PAID:
            self.client.v1.invoices.pay(
                invoice.stripe_invoice_id,
                params={"paid_out_of_band": True},
                options={"idempotency_key": f"{key}-paid-out-of-band"},
            )
            return "paid out of band"
        if invoice.status == InvoiceStatus.OPEN:
            offline = invoice.credited_cents + (
                invoice.payments.exclude(method=PaymentMethod.STRIPE).aggregate(
                    total=Sum("amount_cents")
                )["total"]
                or 0
            )
            reduction = offline - invoice.stripe_reduced_cents
            if reduction <= 0:
                return "nothing to tell"
            self.client.v1.credit_notes.create(
                params={
                    "invoice": invoice.stripe_invoice_id,
                    "amount": reduction,
                    "email_type": "none",
                    "memo": (
                        f"Réglé hors Stripe (chèque, virement ou note de crédit) : "
                        f"{money(reduction, 'fr')}. Solde : {money(invoice.balance_cents, 'fr')}."
                    ),
                    "metadata": {"relais_invoice": str(invoice.pk)},
                },
                options={"idempotency_key": f"{key}-reduce-to-{offline}"},
            )
            Invoice.objects.filter(pk=invoice.pk).update(stripe_reduced_cents=offline)
            return "reduced"
        return "nothing to tell"

    # --- subscriptions ---------------------------------------------------------------------
    def subscription_start(self, account: BillingAccount) -> Any:
        """Start the town's subscription at Stripe, billing from `stripe_subscription_from`
        (a period's first day, at noon in Québec) at `stripe_subscription_price_cents` a
        period, each invoice sent (`send_invoice`) with the account's terms. The ledger numbers
        and completes each period's invoice when Stripe drafts it (`invoice.created`)."""
        customer = self.customer_ensure(account)
        assert account.stripe_subscription_requested_at is not None  # noqa: S101  (requested)
        assert account.stripe_subscription_from is not None  # noqa: S101  (requested)
        request = int(account.stripe_subscription_requested_at.timestamp())
        if not account.stripe_product_id:
            product = self.client.v1.products.create(
                params={
                    "name": f"Relais — abonnement de {account.municipality.name}"[:250],
                    "metadata": {"relais_account": str(account.pk)},
                },
                options={"idempotency_key": f"relais-product-{account.pk}"},
            )
            BillingAccount.objects.filter(pk=account.pk).update(stripe_product_id=product.id)
            account.stripe_product_id = product.id
        # Noon, not midnight: Stripe keeps the anchor's UTC time, so daylight saving moves
        # it by an hour, which must never move it to another day.
        # A subscription Stripe made for an earlier request whose answer was lost (the request
        # given up since) is taken, never a second one.
        found = self.client.v1.subscriptions.list(
            params={"customer": customer, "status": "all", "limit": 100}
        )
        for existing in found.data:
            shown = existing.to_dict()
            if (shown.get("metadata") or {}).get("relais_account") == str(account.pk) and (
                shown.get("status") not in ("canceled", "incomplete_expired")
            ):
                return existing
        start = datetime.combine(account.stripe_subscription_from, time(12), tzinfo=QUEBEC)
        params: dict[str, Any] = {
            "customer": customer,
            "collection_method": "send_invoice",
            "days_until_due": max(account.payment_terms_days, 1),
            "currency": "cad",
            "items": [
                {
                    "price_data": {
                        "currency": "cad",
                        "product": account.stripe_product_id,
                        "unit_amount": account.stripe_subscription_price_cents,
                        "recurring": {"interval": account.stripe_subscription_interval},
                    }
                }
            ],
            "billing_cycle_anchor": int(start.timestamp()),
            "proration_behavior": "none",
            "metadata": {"relais_account": str(account.pk)},
        }
        return self.client.v1.subscriptions.create(
            params=cast(Any, params),
            options={"idempotency_key": f"relais-subscription-{account.pk}-start-{request}"},
        )

    def subscription_cancel(self, account: BillingAccount) -> Any:
        """Stop the subscription now: Stripe drafts no more periods (the ledger's schedule
        drafts them again)."""
        assert account.stripe_subscription_requested_at is not None  # noqa: S101  (requested)
        request = int(account.stripe_subscription_requested_at.timestamp())
        return self.client.v1.subscriptions.cancel(
            account.stripe_subscription_id,
            params={"prorate": False},
            options={"idempotency_key": f"relais-subscription-{account.pk}-cancel-{request}"},
        )

    def invoice_hold(self, stripe_invoice_id: str) -> None:
        """Stop Stripe from finalizing (and e-mailing) a draft of a subscription's period by
        itself: the ledger completes it, or discards it."""
        # No idempotency key: it bills nothing and is safe to repeat, and Stripe would replay
        # a 500 under the same key for a day to every redelivery of the event.
        self.client.v1.invoices.update(stripe_invoice_id, params={"auto_advance": False})

    def invoice_discard(self, stripe_invoice_id: str) -> None:
        """Void a draft Stripe made for a period the ledger does not bill there (already
        billed, voided, settled, or not billable). A subscription's draft cannot be deleted:
        it is held, finalized without being sent (no e-mail), then voided."""
        key = f"relais-discard-{stripe_invoice_id}"
        current = self.client.v1.invoices.retrieve(stripe_invoice_id)
        if current.status == "void":
            return
        if current.status == "draft":
            self.invoice_hold(stripe_invoice_id)
            self.client.v1.invoices.finalize_invoice(
                stripe_invoice_id,
                params={"auto_advance": False},
                options={"idempotency_key": f"{key}-finalize"},
            )
        self.client.v1.invoices.void_invoice(
            stripe_invoice_id, options={"idempotency_key": f"{key}-void"}
        )


def _describe(description: str, quantity: Any) -> str:
    return f"{description} (× {quantity.normalize()})" if quantity != 1 else description


def gateway(*, http_client: stripe.HTTPClient | None = None) -> StripeGateway | None:
    """The gateway with the configured key, or None while Stripe is off. `http_client`: the
    SDK's own extension point (the tests give a recording one)."""
    if not settings.STRIPE_SECRET_KEY:
        return None
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=http_client
        or stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=0,  # the task retries, with its own delays
    )
    return StripeGateway(client)


# The advisory lock class of a sync ("STRP"): one sync of an invoice at a time, across workers.
SYNC_LOCK_CLASS = 0x53545250


def invoice_sync(*, invoice_id: int, http_client: stripe.HTTPClient | None = None) -> SyncResult:
    """Send an issued invoice to Stripe (the task `billing.tasks.stripe_send_invoice`, and the
    sweep `manage.py stripe_sync_pending`): `sent`, `pending` after a passing error (to retry),
    `failed` after a refusal, `skipped` without Stripe or for what Stripe does not collect (a
    draft, a credit note, a void invoice), `busy` while another worker sends it.

    No row stays locked while Stripe answers: one sync per invoice is held by a session
    advisory lock, and each id Stripe gives is committed at once (a webhook arriving meanwhile
    finds the invoice; a worker that dies midway leaves the ids a retry carries on from)."""
    found = gateway(http_client=http_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
        if not cursor.fetchone()[0]:
            return SyncResult("busy")
    try:
        invoice = Invoice.objects.select_related("account__municipality").get(pk=invoice_id)
        if (
            found is None
            or invoice.kind != InvoiceKind.INVOICE
            or invoice.status != InvoiceStatus.OPEN
            or invoice.stripe_state == "sent"
        ):
            return SyncResult("skipped")
        try:
            found.invoice_send(invoice)
        except TRANSIENT as error:
            state, detail = "pending", f"{type(error).__name__}: {error.user_message or error}"
        except REFUSED as error:
            state, detail = "failed", str(error.user_message or error)[:300]
        else:
            state, detail = "sent", ""
        Invoice.objects.filter(pk=invoice.pk).update(stripe_state=state, stripe_error=detail[:300])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
    logger.info("stripe invoice sync: invoice=%s state=%s", invoice_id, state)
    return SyncResult(state, detail)


def webhook_event(*, payload: bytes, signature: str) -> Any:
    """The event Stripe sent, its signature checked with STRIPE_WEBHOOK_SECRET (and its age:
    5 minutes at most). Raises ValueError for a payload that is not JSON and
    stripe.SignatureVerificationError for a missing, wrong or stale signature."""
    return stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )


SignatureError = stripe.SignatureVerificationError


def invoice_settle_sync(
    *, invoice_id: int, http_client: stripe.HTTPClient | None = None
) -> SyncResult:
    """Tell Stripe that the ledger voided or settled (in part or whole) an invoice it sent, or
    void Stripe's draft of a subscription period the ledger settled before sending it (the task
    `billing.tasks.stripe_settle_invoice`): `settled`, `pending` after a passing error, `failed`
    after a refusal (Stripe's message on the invoice), `skipped` when there is nothing to tell,
    `busy` while the invoice is being sent (the task tries again)."""
    found = gateway(http_client=http_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
        if not cursor.fetchone()[0]:
            return SyncResult("busy")
    try:
        invoice = Invoice.objects.get(pk=invoice_id)
        if found is None or not invoice.stripe_invoice_id:
            return SyncResult("skipped")
        sent = invoice.stripe_state == "sent"
        unsent_period = invoice.stripe_prebilled_cents is not None and not sent
        if not sent and not unsent_period:
            return SyncResult("skipped")
        try:
            if unsent_period and invoice.status != InvoiceStatus.OPEN:
                # Voided, or settled in full, before the ledger completed Stripe's draft of the
                # period: the draft is voided there, never sent.
                found.invoice_discard(invoice.stripe_invoice_id)
                outcome = "discarded"
            elif unsent_period:
                return SyncResult("skipped")  # the sending task takes it from here
            else:
                outcome = found.invoice_settle(invoice)
        except TRANSIENT as error:
            return SyncResult("pending", f"{type(error).__name__}: {error.user_message or error}")
        except REFUSED as error:
            detail = str(error.user_message or error)[:300]
            # A note of money to give back, from the webhook, stays on the invoice's page.
            Invoice.objects.filter(pk=invoice.pk).exclude(
                stripe_error__startswith="Trop-perçu"
            ).update(stripe_error=detail)
            return SyncResult("failed", detail)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
    logger.info("stripe invoice settle: invoice=%s outcome=%s", invoice_id, outcome)
    return SyncResult("settled" if outcome != "nothing to tell" else "skipped", outcome)


# One subscription request of an account at a time ("STRS").
SUBSCRIPTION_LOCK_CLASS = 0x53545253


def subscription_sync(
    *, account_id: int, http_client: stripe.HTTPClient | None = None
) -> SyncResult:
    """Carry out the account's subscription request (the task
    `billing.tasks.stripe_subscription`): `started` or `canceled`, `pending` after a passing
    error (to retry), `failed` after a refusal (Stripe's message on the account's page),
    `skipped` without Stripe or without a request, `busy` while another worker does it."""
    found = gateway(http_client=http_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SUBSCRIPTION_LOCK_CLASS, account_id])
        if not cursor.fetchone()[0]:
            return SyncResult("busy")
    try:
        account = BillingAccount.objects.select_related("municipality").get(pk=account_id)
        request = account.stripe_subscription_request
        if found is None or not request:
            return SyncResult("skipped")
        try:
            if request == "start":
                subscription = found.subscription_start(account).to_dict()
                items = subscription.get("items") or {}
                first = (items.get("data") or [{}])[0]
                BillingAccount.objects.filter(pk=account.pk).update(
                    stripe_subscription_id=str(subscription["id"]),
                    stripe_subscription_item_id=str(first.get("id") or ""),
                    stripe_subscription_status=str(subscription.get("status") or ""),
                    stripe_subscription_request="",
                    stripe_subscription_error="",
                )
                state = "started"
            else:
                canceled = found.subscription_cancel(account).to_dict()
                BillingAccount.objects.filter(pk=account.pk).update(
                    stripe_subscription_status=str(canceled.get("status") or "canceled"),
                    stripe_subscription_request="",
                    stripe_subscription_error="",
                )
                state = "canceled"
        except TRANSIENT as error:
            return SyncResult("pending", f"{type(error).__name__}: {error.user_message or error}")
        except REFUSED as error:
            detail = str(error.user_message or error)[:300]
            BillingAccount.objects.filter(pk=account.pk).update(
                stripe_subscription_request="", stripe_subscription_error=detail
            )
            return SyncResult("failed", detail)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [SUBSCRIPTION_LOCK_CLASS, account_id]
            )
    logger.info("stripe subscription: account=%s state=%s", account_id, state)
    return SyncResult(state)


def invoice_hold_sync(
    *, stripe_invoice_id: str, http_client: stripe.HTTPClient | None = None
) -> SyncResult:
    """Hold Stripe's draft of a subscription period (no finalizing, no e-mail by Stripe alone),
    from the webhook before it answers: `held`, `pending` after a passing error (the webhook
    then answers 503 and Stripe, which waits for a good answer before finalizing, sends the
    event again), `failed` after a refusal (the sending task then says why), `skipped`."""
    found = gateway(http_client=http_client)
    if found is None:
        return SyncResult("skipped")
    try:
        found.invoice_hold(stripe_invoice_id)
    except (*TRANSIENT, stripe.AuthenticationError, stripe.PermissionError) as error:
        # A key rotated or restricted is fixed by a person within Stripe's 72 hours: until
        # then the event is refused, and Stripe keeps the draft and sends the event again.
        return SyncResult("pending", f"{type(error).__name__}: {error.user_message or error}")
    except REFUSED as error:
        return SyncResult("failed", str(error.user_message or error)[:300])
    return SyncResult("held")


def subscription_request_abandon(*, account_id: int, detail: str) -> None:
    """Give up a subscription request Stripe never answered (every retry spent): the request is
    cleared, so the ledger drafts the periods again and the operator can ask anew; the account's
    page says why."""
    BillingAccount.objects.filter(pk=account_id).exclude(stripe_subscription_request="").update(
        stripe_subscription_request="",
        stripe_subscription_error=(
            f"Stripe n'a pas répondu à la demande : abandonnée, à refaire. ({detail})"
        )[:300],
    )


def invoice_discard_sync(
    *, stripe_invoice_id: str, http_client: stripe.HTTPClient | None = None
) -> SyncResult:
    """Void a draft Stripe made for a period the ledger does not bill there (the task
    `billing.tasks.stripe_discard_invoice`): `discarded`, `pending`, `failed` or `skipped`."""
    found = gateway(http_client=http_client)
    if found is None:
        return SyncResult("skipped")
    try:
        found.invoice_discard(stripe_invoice_id)
    except TRANSIENT as error:
        return SyncResult("pending", f"{type(error).__name__}: {error.user_message or error}")
    except REFUSED as error:
        return SyncResult("failed", str(error.user_message or error)[:300])
    logger.info("stripe draft discarded: invoice=%s", stripe_invoice_id)
    return SyncResult("discarded")
