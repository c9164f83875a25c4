"""Québec's sales taxes on an invoice: GST (TPS) 5 % and QST (TVQ) 9.975 %, each computed on
the pre-tax amount (the QST is not charged on the GST since 2013), rounded half-up to the cent.

Amounts are integer cents; a credit note's are negative and round symmetrically (half away from
zero), so that a credit note for a whole invoice cancels its taxes to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Rates as exact fractions: 5 / 100 and 9,975 / 100,000.
GST_RATE = (5, 100)
QST_RATE = (9_975, 100_000)


def _share(cents: int, rate: tuple[int, int]) -> int:
    """cents × rate, rounded half away from zero to the cent, in integers only."""
    numerator, denominator = rate
    magnitude = (abs(cents) * numerator * 2 + denominator) // (denominator * 2)
    return magnitude if cents >= 0 else -magnitude


def gst(cents: int) -> int:
    return _share(cents, GST_RATE)


def qst(cents: int) -> int:
    return _share(cents, QST_RATE)


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    gst_cents: int
    qst_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.gst_cents + self.qst_cents


def totals(line_amounts: list[int]) -> Totals:
    """An invoice's totals: the lines' sum, then each tax on that sum."""
    subtotal = sum(line_amounts)
    return Totals(subtotal_cents=subtotal, gst_cents=gst(subtotal), qst_cents=qst(subtotal))


def line_amount(quantity: Decimal, unit_cents: int) -> int:
    """A line's amount: quantity × unit price, rounded half-up (away from zero) to the cent."""
    return int((quantity * unit_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))
