"""Québec's sales taxes to the cent: GST 5 % and QST 9.975 % each on the pre-tax amount,
rounded half-up; the total always equals the lines and the taxes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import money
from billing.taxes import gst, line_amount, qst, totals


def _reference(cents: int, rate: str) -> int:
    """The same rounding, in Decimal: the rule as an accountant states it."""
    amount = (Decimal(abs(cents)) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(amount) if cents >= 0 else -int(amount)


@pytest.mark.parametrize(
    ("subtotal", "expected_gst", "expected_qst", "expected_total"),
    [
        (10_000, 500, 998, 11_498),  # $100.00 → GST $5.00, QST $9.98, total $114.98
        (1, 0, 0, 1),
        (10, 1, 1, 12),  # 0.5 ¢ of GST and 0.9975 ¢ of QST round up
        (20, 1, 2, 23),
        (4_000, 200, 399, 4_599),  # 399.0 ¢ of QST
        (100_000_00, 5_000_00, 9_975_00, 114_975_00),
        (-10_000, -500, -998, -11_498),  # a credit note for $100.00
    ],
)
def test_known_amounts(subtotal, expected_gst, expected_qst, expected_total):
    result = totals([subtotal])

    assert (result.gst_cents, result.qst_cents) == (expected_gst, expected_qst)
    assert result.total_cents == expected_total


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_each_tax_is_rounded_half_up_on_the_pre_tax_amount(cents):
    assert gst(cents) == _reference(cents, "0.05")
    assert qst(cents) == _reference(cents, "0.09975")


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=40))
def test_the_total_always_equals_the_lines_and_the_taxes(lines):
    result = totals(lines)

    assert result.subtotal_cents == sum(lines)
    assert result.total_cents == sum(lines) + gst(sum(lines)) + qst(sum(lines))
    # A credit note of the same lines cancels the invoice to the cent.
    assert totals([-line for line in lines]).total_cents == -result.total_cents


@pytest.mark.parametrize(
    ("quantity", "unit", "amount"),
    [
        ("5.75", 12_000, 69_000),
        ("2.5", 3, 8),  # 7.5 ¢ rounds up
        ("0.25", 2, 1),  # 0.5 ¢ rounds up
        ("0.33", 1_000, 330),
        ("1", -40_000, -40_000),  # a discount
        ("1.5", -3, -5),  # -4.5 ¢ rounds away from zero, as its credit would
    ],
)
def test_a_line_is_quantity_times_unit_rounded_half_up(quantity, unit, amount):
    assert line_amount(Decimal(quantity), unit) == amount


@pytest.mark.parametrize(
    ("cents", "language", "written"),
    [
        (11_498, "fr", "114,98\u00a0$"),
        (123_456_789, "fr", "1\u202f234\u202f567,89\u00a0$"),
        (-500, "fr", "-5,00\u00a0$"),
        (123_456_789, "en", "$1,234,567.89"),
        (5, "en", "$0.05"),
    ],
)
def test_amounts_are_written_as_each_language_writes_them(cents, language, written):
    assert money(cents, language) == written


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "9e30", "1,234", "abc"])
def test_an_amount_that_is_not_one_is_refused_not_a_crash(typed):
    from billing.forms import CreditForm

    form = CreditForm({"amount": typed, "reason": "x"})

    assert not form.is_valid()  # "1,234": three decimals, not a thousand
