"""`{{ cents|money }}`: an amount in cents as the page's language writes it."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import get_language

from billing.money import money as written

register = template.Library()


@register.filter
def money(cents: int | None) -> str:
    return written(cents or 0)


@register.filter
def resident_rate(hundredths_of_cent: int) -> str:
    """A per-resident price (hundredths of a cent) in cents: « 2,5 ¢ », "2.5¢"."""
    cents = format(Decimal(hundredths_of_cent or 0) / 100, "f").rstrip("0").rstrip(".")
    if (get_language() or "fr").startswith("en"):
        return f"{cents}¢"
    return f"{cents.replace('.', ',')}\u00a0¢"
