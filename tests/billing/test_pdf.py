"""The invoice as a PDF, typeset by WeasyPrint: every mention a Québec invoice needs (the
supplier's name and GST/QST numbers, the number and date, the client, the lines, each tax and
the total), in French or in English; its pages drawn as PNG images and read back as text."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image

from billing import services
from billing.models import HostBillingProfile
from billing.pdf import invoice_pdf
from tests.billing.conftest import TODAY
from tests.onboarding.console_helpers import console_client

pytestmark = pytest.mark.django_db


def _pages(document: bytes) -> list[tuple[str, Image.Image]]:
    pdf = pypdfium2.PdfDocument(document)
    pages = []
    for page in pdf:
        text = page.get_textpage().get_text_range()
        image = page.render(scale=1).to_pil()
        pages.append((text, image))
    return pages


@pytest.fixture
def issued(book, project):
    HostBillingProfile.objects.create(
        host=project.host, legal_name="Ville de Laval", address="1, place du Souvenir\nLaval",
        gst_number="123456789 RT 0001", qst_number="1234567890 TQ 0001",
    )  # fmt: skip
    draft = services.subscription_draft(
        actor=None, project=project, period_start=date(2026, 12, 1), today=TODAY
    )
    return services.invoice_issue(actor=None, invoice=draft, today=TODAY)


def test_the_pdf_holds_every_mention_in_french(issued, tmp_path):
    document = invoice_pdf(invoice=issued)

    assert document.startswith(b"%PDF")
    ((text, image),) = _pages(document)
    flat = " ".join(text.split())
    for mention in (
        "Facture FAC-2026-00001",
        "1 décembre 2026",
        "Ville de Laval",
        "N° de TPS : 123456789 RT 0001",
        "N° de TVQ : 1234567890 TQ 0001",
        "Ville de Lévis",
        "N° de TPS : 123456789RT0001",
        "Abonnement",
        "TPS (5 %)",
        "TVQ (9,975 %)",
        "3 750,00 $",
        "187,50 $",
        "374,06 $",
        "4 311,56 $",
        "net 30 jours",
    ):
        assert mention in flat.replace("\u202f", " ").replace("\u00a0", " "), mention
    # Drawn: a letter-size page with ink on it.
    image.save(tmp_path / "facture.png")
    if os.environ.get("RELAIS_DOC_SCREENSHOTS"):  # the page shown in docs/billing.md
        image.save(Path(__file__).resolve().parents[2] / "docs" / "billing" / "invoice-pdf.png")
    assert image.size == (612, 792)
    grey = image.convert("L")
    assert sum(grey.histogram()[:128]) > 2_000  # dark pixels: the text and the rules


def test_the_pdf_in_english_and_a_draft_marked_as_one(issued, book, project):
    english = " ".join(_pages(invoice_pdf(invoice=issued, language="en"))[0][0].split())
    draft = services.subscription_draft(
        actor=None, project=project, period_start=date(2027, 1, 1), today=TODAY
    )
    drafted = " ".join(_pages(invoice_pdf(invoice=draft))[0][0].split())

    assert "Invoice FAC-2026-00001" in english
    assert "GST (5%)" in english
    assert "$4,311.56" in english
    assert "GST no.: 123456789 RT 0001" in english
    assert "Balance due" in english
    assert "BROUILLON" in drafted


def test_the_console_serves_it_to_operators_only(issued):
    operator = console_client()
    specialist = console_client("specialiste@relais.quebec", "specialist")

    response = operator.get(f"/console/facturation/factures/{issued.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="FAC-2026-00001.pdf"'
    assert specialist.get(f"/console/facturation/factures/{issued.pk}/pdf/").status_code == 403
