"""Amounts in cents, written as a Québec reader expects them: « 1 234,56 $ » in French,
"$1,234.56" in English."""

from __future__ import annotations

from django.utils.translation import get_language

NARROW_NO_BREAK_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"


def money(cents: int, language: str | None = None) -> str:
    language = language or (get_language() or "fr")
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(cents), 100)
    if language.startswith("en"):
        return f"{sign}${dollars:,}.{remainder:02d}"
    grouped = f"{dollars:,}".replace(",", NARROW_NO_BREAK_SPACE)
    return f"{sign}{grouped},{remainder:02d}{NO_BREAK_SPACE}$"
