"""Request numbers stay gap-free when creations run in parallel and one of them fails.

This test commits for real (threads have their own connections and only see committed rows),
so it runs outside the per-test transaction and removes its rows at the end.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection, connections, transaction
from django_tenants.utils import schema_context

from crm.models import Department, ServiceCategory, ServiceRequest, ServiceType
from crm.services import request_create

YEAR = 2031  # a year no other test uses: its counter starts at zero here
WORKERS = 8
FAILING_WORKER = 3


class _Rollback(Exception):
    pass


def _cleanup() -> None:
    with connection.cursor() as cursor:
        # The timeline refuses deletes by trigger; replication role skips triggers for cleanup.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "DELETE FROM crm_requestevent WHERE request_id IN "
            "(SELECT id FROM crm_servicerequest WHERE number LIKE %s)",
            [f"{YEAR}-%"],
        )
        cursor.execute("DELETE FROM crm_servicerequest WHERE number LIKE %s", [f"{YEAR}-%"])
        cursor.execute("DELETE FROM crm_requestcounter WHERE year = %s", [YEAR])
        cursor.execute("SET session_replication_role = DEFAULT")
    ServiceType.objects.filter(code="concurrence").delete()
    ServiceCategory.objects.filter(code="concurrence").delete()
    Department.objects.filter(code="concurrence").delete()


def test_parallel_creations_get_consecutive_numbers(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), schema_context("laval"):
        _cleanup()
        service_type = ServiceType.objects.create(
            code="concurrence",
            name_fr="Concurrence",
            category=ServiceCategory.objects.create(code="concurrence", name_fr="Concurrence"),
            department=Department.objects.create(code="concurrence", name_fr="Concurrence"),
            location_required=False,
        )
        barrier = threading.Barrier(WORKERS)
        numbers: list[str] = []
        errors: list[BaseException] = []

        def create(worker: int) -> None:
            try:
                with schema_context("laval"):
                    barrier.wait(timeout=30)
                    with transaction.atomic():
                        request = request_create(
                            actor=None,
                            service_type=service_type,
                            channel="api",
                            now=datetime(YEAR, 3, 2, 10, 0, tzinfo=ZoneInfo("America/Toronto")),
                        )
                        if worker == FAILING_WORKER:
                            raise _Rollback
                    numbers.append(request.number)
            except _Rollback:
                pass
            except BaseException as error:  # reported in the main thread below
                errors.append(error)
            finally:
                connections.close_all()

        try:
            threads = [threading.Thread(target=create, args=(i,)) for i in range(WORKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)

            assert errors == []
            assert sorted(numbers) == [f"{YEAR}-{n:06d}" for n in range(1, WORKERS)]
            stored = ServiceRequest.objects.filter(number__startswith=f"{YEAR}-")
            assert stored.count() == WORKERS - 1
        finally:
            _cleanup()
