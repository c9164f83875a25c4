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
from typing import Any, cast

import stripe
from django.conf import settings
from django.db import connection

from billing.models import BillingAccount, Invoice, InvoiceKind, InvoiceStatus
from billing.money import money

logger = logging.getLogger(__name__)

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
        if not invoice.stripe_invoice_id:
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
        items: list[tuple[str, int, str]] = [
            (f"line-{line.pk}", line.amount_cents, _describe(line.description_fr, line.quantity))
            for line in invoice.lines.all()
        ]
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
        """Tell Stripe what the ledger settled without it: an invoice voided, or paid by cheque,
        transfer or credit notes (marked paid out of band), so that its payment page stops
        asking. A partly settled invoice is left as it is (Stripe's page still shows the full
        amount: a later payment there is flagged as an overpayment)."""
        key = f"relais-invoice-{invoice.pk}"
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
        return "nothing to tell"


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
    """Tell Stripe that the ledger voided or settled an invoice it sent (the task
    `billing.tasks.stripe_settle_invoice`): `settled`, `pending` after a passing error, `failed`
    after a refusal (Stripe's message on the invoice), `skipped` when there is nothing to tell."""
    found = gateway(http_client=http_client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
        if not cursor.fetchone()[0]:
            return SyncResult("busy")
    try:
        invoice = Invoice.objects.get(pk=invoice_id)
        if found is None or not invoice.stripe_invoice_id or invoice.stripe_state != "sent":
            return SyncResult("skipped")
        try:
            outcome = found.invoice_settle(invoice)
        except TRANSIENT as error:
            return SyncResult("pending", f"{type(error).__name__}: {error.user_message or error}")
        except REFUSED as error:
            detail = str(error.user_message or error)[:300]
            Invoice.objects.filter(pk=invoice.pk).update(stripe_error=detail)
            return SyncResult("failed", detail)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_CLASS, invoice_id])
    logger.info("stripe invoice settle: invoice=%s outcome=%s", invoice_id, outcome)
    return SyncResult("settled" if outcome != "nothing to tell" else "skipped", outcome)
