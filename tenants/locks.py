"""PostgreSQL advisory locks: what makes a background task safe to run twice, or twice at once.

A task may run again after its worker died mid-way, or on two workers at the same time (see
`tenants/worker.py`); the work it does under one of these locks is serialised across every
process that uses the database.
"""

from __future__ import annotations

from django.db import connection


def advisory_xact_lock(name: str) -> None:
    """Wait for the advisory lock called `name`, held until the current transaction ends.

    PostgreSQL releases it at commit or rollback, and when the session ends (a killed process
    never leaves it behind). Call inside `transaction.atomic()`.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_lock needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
