"""An invoice or a credit note as a PDF, typeset by WeasyPrint (with the system's Pango and the
DejaVu fonts) from templates/billing/invoice_pdf.html, in the account's language or the one
asked for. A draft is marked as one on every page."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from billing.models import HostBillingProfile, Invoice


def invoice_pdf(*, invoice: Invoice, language: str | None = None) -> bytes:
    from weasyprint import HTML  # heavy: imported when a PDF is asked for

    language = language if language in ("fr", "en") else invoice.language or "fr"
    host = invoice.account.municipality.host
    profile = HostBillingProfile.objects.filter(host=host).first()
    with translation.override(language):
        html = render_to_string(
            "billing/invoice_pdf.html",
            {
                "invoice": invoice,
                "lines": list(invoice.lines.all()),
                "payments": list(invoice.payments.all()),
                "profile": profile,
                "host": host,
                "account": invoice.account,
                "language": language,
            },
        )
    return bytes(HTML(string=html).write_pdf())
