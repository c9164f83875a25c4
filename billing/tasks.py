"""The charge-back's background work (django-tasks, run by `db_worker`): sending an issued
invoice to Stripe, again after a passing error with growing delays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend

from billing.stripe_gateway import invoice_settle_sync, invoice_sync

# After a passing error (Stripe unreachable, a rate limit, a 5xx): 1, 5, 15, 60 minutes, then
# every 3 hours; the operator sees the invoice "à transmettre" meanwhile.
RETRY_MINUTES = (1, 5, 15, 60, 180, 180, 180, 180)


@task()
def stripe_send_invoice(invoice_id: int, attempt: int = 1) -> str:
    """Send an issued invoice to Stripe; safe to run twice (idempotency keys)."""
    result = invoice_sync(invoice_id=invoice_id)
    if result.state == "pending" and attempt <= len(RETRY_MINUTES):
        stripe_send_enqueue(
            invoice_id=invoice_id,
            attempt=attempt + 1,
            delay=timedelta(minutes=RETRY_MINUTES[attempt - 1]),
        )
    return result.state


def stripe_send_enqueue(
    *, invoice_id: int, attempt: int = 1, delay: timedelta | None = None
) -> None:
    """Queue the sending: with the database backend in the caller's transaction (both commit or
    neither), else once it commits. A backend that cannot defer retries no later attempt."""
    _enqueue(stripe_send_invoice, invoice_id=invoice_id, attempt=attempt, delay=delay)


def _enqueue(job: Any, *, invoice_id: int, attempt: int, delay: timedelta | None) -> None:
    backend = job.get_backend()
    if delay is not None:
        if not backend.supports_defer:
            return
        job = job.using(run_after=timezone.now() + delay)
    if isinstance(backend, DatabaseBackend):
        job.enqueue(invoice_id, attempt)
    else:
        transaction.on_commit(lambda: job.enqueue(invoice_id, attempt))


@task()
def stripe_settle_invoice(invoice_id: int, attempt: int = 1) -> str:
    """Tell Stripe the ledger voided or settled an invoice it sent; safe to run twice."""
    result = invoice_settle_sync(invoice_id=invoice_id)
    if result.state == "pending" and attempt <= len(RETRY_MINUTES):
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
    _enqueue(stripe_settle_invoice, invoice_id=invoice_id, attempt=attempt, delay=delay)
