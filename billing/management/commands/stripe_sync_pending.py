"""The safety net of the Stripe copies: send again every issued invoice still « à transmettre »
(a task lost with its worker, a backend that cannot defer the retries)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.models import Invoice
from billing.stripe_gateway import invoice_sync
from billing.tasks import settle_after_sending


class Command(BaseCommand):
    help = "Transmet à Stripe les factures émises encore « à transmettre »."

    def handle(self, *args: Any, **options: Any) -> None:
        pending = Invoice.objects.filter(stripe_state="pending").values_list("pk", flat=True)
        counts: dict[str, int] = {}
        for invoice_id in list(pending):
            state = invoice_sync(invoice_id=invoice_id).state
            if state == "sent":
                settle_after_sending(invoice_id=invoice_id)
            counts[state] = counts.get(state, 0) + 1
        self.stdout.write(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())) or "0")
