"""Invoice numbers stay gap-free when issues run in parallel and one of them fails: the year's
counter row is locked until each transaction ends, and a rollback gives its number back.

Threads have their own connections and see only committed rows: this test commits for real,
outside the per-test transaction, and removes its counter at the end."""

from __future__ import annotations

import threading

from django.db import connection, connections, transaction

from billing.services import invoice_number

SERIES = "FAC-2039"  # a series no other test uses
WORKERS = 8
FAILING_WORKER = 3


class _Rollback(Exception):
    pass


def _cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_invoicecounter WHERE series = %s", [SERIES])


def test_parallel_issues_get_consecutive_numbers(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _cleanup()
        barrier = threading.Barrier(WORKERS)
        numbers: list[str] = []
        errors: list[BaseException] = []

        def issue(worker: int) -> None:
            try:
                barrier.wait(timeout=30)
                with transaction.atomic():
                    number = invoice_number(series=SERIES)
                    if worker == FAILING_WORKER:
                        raise _Rollback
                numbers.append(number)
            except _Rollback:
                pass
            except BaseException as error:  # reported in the main thread below
                errors.append(error)
            finally:
                connections.close_all()

        try:
            threads = [threading.Thread(target=issue, args=(n,)) for n in range(WORKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            assert sorted(numbers) == [f"{SERIES}-{n:05d}" for n in range(1, WORKERS)]
        finally:
            _cleanup()
