"""Background work goes through Django's tasks API: queued in PostgreSQL (public schema) and run
by a real `db_worker` process."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from onboarding.models import TownRollup
from onboarding.services import rollup_refresh
from onboarding.tasks import refresh_console_rollup
from tenants.locks import advisory_xact_lock
from tests.e2e.test_accessibility import committed
from tests.processes import run_worker, wait_for

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "tenants.tasks_backend.DatabaseBackend"}}


def test_the_rollup_task_is_queued_in_postgresql_and_run_by_the_worker(laval, levis):
    holder: dict[str, str] = {}

    def enqueue() -> None:
        with override_settings(TASKS=DATABASE_QUEUE):
            holder["id"] = str(refresh_console_rollup.enqueue().id)

    def clean() -> None:
        DBTaskResult.objects.filter(id=holder.get("id")).delete()
        TownRollup.objects.all().delete()

    committed(enqueue)
    try:
        with override_settings(TASKS=DATABASE_QUEUE):
            assert refresh_console_rollup.get_result(holder["id"]).status == "READY"
        worker = run_worker("--batch")
        assert worker.returncode == 0, worker.stderr
        with override_settings(TASKS=DATABASE_QUEUE):
            result = refresh_console_rollup.get_result(holder["id"])
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value >= 2
        assert {"laval", "levis"} <= set(
            TownRollup.objects.values_list("municipality__slug", flat=True)
        )
    finally:
        committed(clean)


def test_running_the_rollup_twice_leaves_the_same_figures(laval, levis):
    assert rollup_refresh() >= 2
    first = _figures()

    assert rollup_refresh() >= 2

    assert _figures() == first


def _figures() -> dict[str, tuple]:
    return {
        rollup.municipality.slug: (
            rollup.staff_count,
            rollup.requests_this_month,
            rollup.last_activity_at,
        )
        for rollup in TownRollup.objects.select_related("municipality")
    }


def test_concurrent_rollups_take_turns_on_each_town(laval, levis):
    """A second run waits for the first on a town (PostgreSQL's advisory lock, across
    processes), so the figures kept are always the latest computed."""
    holding = threading.Event()
    release = threading.Event()
    counted: list[int] = []

    def hold_laval() -> None:
        with transaction.atomic():
            advisory_xact_lock("onboarding.rollup.laval")
            holding.set()
            release.wait(30)

    blocker = threading.Thread(target=committed, args=(hold_laval,))
    blocker.start()
    refresher = threading.Thread(target=committed, args=(lambda: counted.append(rollup_refresh()),))
    try:
        assert holding.wait(10)
        refresher.start()
        wait_for(_a_session_waits_on_an_advisory_lock, timeout=20, what="the rollup waits")
        assert counted == []
        assert not TownRollup.objects.filter(municipality=laval).exists()
    finally:
        release.set()
        blocker.join(30)
        if refresher.ident is not None:
            refresher.join(60)
        committed(lambda: TownRollup.objects.all().delete())
    assert counted
    assert counted[0] >= 2


def _a_session_waits_on_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction, and the test runs in one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0] > 0
