"""`{{ cents|money }}`: an amount in cents as the page's language writes it."""

from __future__ import annotations

from django import template

from billing.money import money as written

register = template.Library()


@register.filter
def money(cents: int | None) -> str:
    return written(cents or 0)
