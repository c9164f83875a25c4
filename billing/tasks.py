"""The charge-back's background work (django-tasks, run by `db_worker`): sending an issued
invoice to Stripe, telling it what the ledger settled, starting or stopping a town's
subscription there, voiding a draft it made for a period the ledger does not bill there; each
again after a passing error, with growing delays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend

from billing.models import Invoice, InvoiceStatus
from billing.stripe_gateway import (
    invoice_discard_sync,
    invoice_settle_sync,
    invoice_sync,
    subscription_request_abandon,
    subscription_sync,
)

# After a passing error (Stripe unreachable, a rate limit, a 5xx): 1, 5, 15, 60 minutes, then
# every 3 hours; the operator sees the invoice "à transmettre" meanwhile.
RETRY_MINUTES = (1, 5, 15, 60, 180, 180, 180, 180)


@task()
def stripe_send_invoice(invoice_id: int, attempt: int = 1) -> str:
    """Send an issued invoice to Stripe; safe to run twice (idempotency keys)."""
    result = invoice_sync(invoice_id=invoice_id)
    if result.state == "sent":
        settle_after_sending(invoice_id=invoice_id)
    if result.state in ("pending", "busy") and attempt <= len(RETRY_MINUTES):
        stripe_send_enqueue(
            invoice_id=invoice_id,
            attempt=attempt + 1,
            delay=timedelta(minutes=RETRY_MINUTES[attempt - 1]),
        )
    return result.state


def settle_after_sending(*, invoice_id: int) -> None:
    """What the ledger settled while the invoice was waiting to be sent (a cheque, a credit
    note, a void) is told to Stripe now: the settling task found it busy, or not sent yet."""
    settled = (
        Invoice.objects.filter(pk=invoice_id)
        .filter(~Q(status=InvoiceStatus.OPEN) | Q(paid_cents__gt=0) | Q(credited_cents__gt=0))
        .exists()
    )
    if settled:
        stripe_settle_enqueue(invoice_id=invoice_id)


def stripe_send_enqueue(
    *, invoice_id: int, attempt: int = 1, delay: timedelta | None = None
) -> None:
    """Queue the sending: with the database backend in the caller's transaction (both commit or
    neither), else once it commits. A backend that cannot defer retries no later attempt."""
    _enqueue(stripe_send_invoice, target=invoice_id, attempt=attempt, delay=delay)


def _enqueue(job: Any, *, target: Any, attempt: int, delay: timedelta | None) -> None:
    backend = job.get_backend()
    if delay is not None:
        if not backend.supports_defer:
            return
        job = job.using(run_after=timezone.now() + delay)
    if isinstance(backend, DatabaseBackend):
        job.enqueue(target, attempt)
    else:
        transaction.on_commit(lambda: job.enqueue(target, attempt))


@task()
def stripe_settle_invoice(invoice_id: int, attempt: int = 1) -> str:
    """Tell Stripe the ledger voided or settled an invoice it sent; safe to run twice."""
    result = invoice_settle_sync(invoice_id=invoice_id)
    if result.state in ("pending", "busy") and attempt <= len(RETRY_MINUTES):
        stripe_settle_enqueue(
            invoice_id=invoice_id,
            attempt=attempt + 1,
            delay=timedelta(minutes=RETRY_MINUTES[attempt - 1]),
        )
    return result.state


def stripe_settle_enqueue(
    *, invoice_id: int, attempt: int = 1, delay: timedelta | None = None
) -> None:
    """As `stripe_send_enqueue`, for telling Stripe what the ledger settled."""
    _enqueue(stripe_settle_invoice, target=invoice_id, attempt=attempt, delay=delay)


@task()
def stripe_subscription(account_id: int, attempt: int = 1) -> str:
    """Start or stop the town's subscription at Stripe, as the console asked; safe to run
    twice (idempotency keys)."""
    result = subscription_sync(account_id=account_id)
    if result.state in ("pending", "busy"):
        if attempt <= len(RETRY_MINUTES):
            stripe_subscription_enqueue(
                account_id=account_id,
                attempt=attempt + 1,
                delay=timedelta(minutes=RETRY_MINUTES[attempt - 1]),
            )
        else:
            subscription_request_abandon(account_id=account_id, detail=result.detail)
    return result.state


def stripe_subscription_enqueue(
    *, account_id: int, attempt: int = 1, delay: timedelta | None = None
) -> None:
    """As `stripe_send_enqueue`, for the account's subscription request."""
    _enqueue(stripe_subscription, target=account_id, attempt=attempt, delay=delay)


@task()
def stripe_discard_invoice(stripe_invoice_id: str, attempt: int = 1) -> str:
    """Void a draft Stripe made for a period the ledger does not bill there."""
    result = invoice_discard_sync(stripe_invoice_id=stripe_invoice_id)
    if result.state == "pending" and attempt <= len(RETRY_MINUTES):
        stripe_discard_enqueue(
            stripe_invoice_id=stripe_invoice_id,
            attempt=attempt + 1,
            delay=timedelta(minutes=RETRY_MINUTES[attempt - 1]),
        )
    return result.state


def stripe_discard_enqueue(
    *, stripe_invoice_id: str, attempt: int = 1, delay: timedelta | None = None
) -> None:
    """As `stripe_send_enqueue`, for a Stripe draft to delete."""
    _enqueue(stripe_discard_invoice, target=stripe_invoice_id, attempt=attempt, delay=delay)
