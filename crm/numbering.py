"""Request numbers: `2026-000123`, consecutive within the town's year, with no gap.

A counter row per year is advanced by one upsert and stays locked until the creating transaction
ends: a rolled-back creation (or import) rolls the increment back with it, so numbers never skip
(`docs/decisions/`, gap-free numbering). The cost is that intakes of one year queue on that row
for the length of their transaction.
"""

from __future__ import annotations

from django.db import connection


def request_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def request_numbers_reserve(*, year: int, count: int = 1) -> int:
    """Advance `year`'s counter by `count` in one statement and return the first number reserved.
    Call inside the transaction that creates the requests."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_requestcounter (year, last_number) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last_number = crm_requestcounter.last_number + "
            "EXCLUDED.last_number RETURNING last_number",
            [year, count],
        )
        (last,) = cursor.fetchone()
    return int(last) - count + 1


def request_numbers_peek(*, year: int) -> int:
    """The number the next request of `year` would get, reserving nothing (an import's dry run)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_number FROM crm_requestcounter WHERE year = %s", [year])
        row = cursor.fetchone()
    return (int(row[0]) if row else 0) + 1
