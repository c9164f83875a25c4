"""The task worker holds a lease: a task whose worker dies is run again by the next worker, or
failed after its attempts; every task is safe to run twice. Real `db_worker` processes are
killed with SIGKILL in the middle of a task."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_exists

from tenants import worker as worker_module
from tenants.models import Municipality, Region, SpareSchema
from tenants.provisioning import spare_pool_refill, stray_spares_drop
from tenants.tasks import refill_spare_pool
from tenants.worker import (
    LeaseTaken,
    WorkerLease,
    abandoned_tasks_recover,
    held_lease_keys,
    lease_key,
    task_requeue_or_fail,
)
from tests.e2e.test_accessibility import committed
from tests.processes import child_env, run_worker, running, wait_for, worker_command
from tests.tenants.worker_tasks import kill_own_worker, wait_for_release

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "tenants.tasks_backend.DatabaseBackend"}}


@pytest.fixture
def committed_spares() -> Iterator[None]:
    """Spare schemas that worker processes commit are dropped after the test."""
    yield

    def drop() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
        SpareSchema.objects.all().delete()

    committed(drop)


def _task(task_id: str) -> DBTaskResult:
    return DBTaskResult.objects.get(id=task_id)


def _spare_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%' ORDER BY 1")
        return [name for (name,) in cursor.fetchall()]


def _created(log: Path) -> int:
    """What `refill_spare_pool` says it made."""
    return int(re.search(r"(\d+) schéma\(s\) de réserve créé", log.read_text()).group(1))


def _output(result: subprocess.CompletedProcess) -> str:
    return f"{result.stdout}\n{result.stderr}"


# --- Real workers, killed mid-task -------------------------------------------------------------


def test_a_task_whose_worker_is_killed_runs_again_on_the_next_worker_and_completes_once(
    tmp_path, queued_task
):
    task_id = queued_task(wait_for_release, str(tmp_path))
    with running(worker_command(), env=child_env(), log=tmp_path / "first.log") as first:
        wait_for(lambda: list(tmp_path.glob("started-*")), timeout=60, what="the task starts")
        first.kill()
        first.wait(timeout=10)
    abandoned = _task(task_id)
    assert abandoned.status == TaskResultStatus.RUNNING  # what the killed worker left
    assert len(abandoned.worker_ids) == 1

    (tmp_path / "release").touch()
    second = run_worker("--batch")

    assert second.returncode == 0, _output(second)
    result = _task(task_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "done"
    assert result.worker_ids[0] == abandoned.worker_ids[0]
    assert len(result.worker_ids) == 2
    assert len(list(tmp_path.glob("started-*"))) == 2
    completions = (tmp_path / "completions").read_text().split()
    assert len(completions) == 1
    assert completions != [str(first.pid)]


def test_a_live_workers_task_is_left_alone_by_another_worker(tmp_path, queued_task):
    task_id = queued_task(wait_for_release, str(tmp_path))
    with running(worker_command(), env=child_env(), log=tmp_path / "first.log") as first:
        wait_for(lambda: list(tmp_path.glob("started-*")), timeout=60, what="the task starts")

        other = run_worker("--batch")  # recovers at start, then finds nothing to run

        assert other.returncode == 0, _output(other)
        assert _task(task_id).status == TaskResultStatus.RUNNING
        assert len(_task(task_id).worker_ids) == 1
        (tmp_path / "release").touch()
        wait_for(
            lambda: _task(task_id).status == TaskResultStatus.SUCCESSFUL,
            timeout=30,
            what="the first worker finishes its task",
        )
        assert first.poll() is None
    assert len(_task(task_id).worker_ids) == 1
    assert (tmp_path / "completions").read_text().split() == [str(first.pid)]


def test_a_refill_killed_mid_spare_leaves_nothing_half_made_and_the_next_worker_fills_the_pool(
    tmp_path, queued_task, committed_spares
):
    assert SpareSchema.objects.count() == 0
    task_id = queued_task(refill_spare_pool, size=2)
    with running(worker_command(), env=child_env(), log=tmp_path / "first.log") as first:
        # Killed while it migrates the second spare (each takes seconds).
        wait_for(lambda: SpareSchema.objects.count() == 1, timeout=90, what="the first spare")
        first.kill()
        first.wait(timeout=10)
    assert _task(task_id).status == TaskResultStatus.RUNNING
    # The second spare's schema, migrations and row were one transaction: rolled back whole.
    rows = list(SpareSchema.objects.values_list("schema_name", flat=True))
    assert _spare_schemas() == sorted(rows)

    second = run_worker("--batch")

    assert second.returncode == 0, _output(second)
    result = _task(task_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 2 - len(rows)  # the second run made only what was missing
    assert SpareSchema.objects.count() == 2
    assert _spare_schemas() == sorted(SpareSchema.objects.values_list("schema_name", flat=True))


def test_a_task_that_keeps_killing_its_worker_fails_after_its_attempts(tmp_path, queued_task):
    task_id = queued_task(kill_own_worker, str(tmp_path))
    exits = []
    for _ in range(4):  # two attempts, then a worker that only records the failure
        worker = run_worker("--batch", "--max-attempts", "2")
        exits.append(worker.returncode)
        if _task(task_id).status == TaskResultStatus.FAILED:
            break

    assert exits == [-9, -9, 0]
    assert len((tmp_path / "attempts").read_text().split()) == 2
    result = _task(task_id)
    assert result.status == TaskResultStatus.FAILED
    assert result.exception_class_path == "tenants.errors.TaskWorkerLost"
    assert "commencée 2 fois" in result.traceback
    assert len(result.worker_ids) == 2


def test_concurrent_refills_in_two_processes_never_overfill_the_pool(tmp_path, committed_spares):
    command = [*worker_command()[:2], "refill_spare_pool", "--size", "1"]
    env = child_env()
    with (
        running(command, env=env, log=tmp_path / "a.log") as one,
        running(command, env=env, log=tmp_path / "b.log") as other,
    ):
        assert one.wait(timeout=120) == 0, (tmp_path / "a.log").read_text()
        assert other.wait(timeout=120) == 0, (tmp_path / "b.log").read_text()

    made = [_created(tmp_path / log) for log in ("a.log", "b.log")]
    assert sorted(made) == [0, 1]
    assert SpareSchema.objects.count() == 1
    assert len(_spare_schemas()) == 1


# --- The lease and the recovery, in this process ----------------------------------------------


@pytest.fixture
def lease() -> Iterator[Callable[[str], WorkerLease]]:
    """A worker's lease taken in this process (a live worker, as far as recovery can tell)."""
    leases: list[WorkerLease] = []

    def take(worker_id: str) -> WorkerLease:
        held = WorkerLease(worker_id)
        held.acquire()
        leases.append(held)
        return held

    yield take
    for held in leases:
        held.release()


def _running_task(*worker_ids: str) -> DBTaskResult:
    with override_settings(TASKS=DATABASE_QUEUE):
        task_id = wait_for_release.enqueue("unused").id
    task = DBTaskResult.objects.get(id=task_id)
    task.status = TaskResultStatus.RUNNING
    task.worker_ids = list(worker_ids)
    task.save()
    return task


def test_recovery_requeues_a_dead_workers_task_and_leaves_a_live_workers_alone(lease):
    lease("alive")
    live = _running_task("alive")
    dead = _running_task("dead")
    exhausted = _running_task("dead-1", "dead-2", "dead-3")

    recovered = abandoned_tasks_recover(backend_name="default", worker_id="me", max_attempts=3)

    assert recovered == 2
    live.refresh_from_db()
    dead.refresh_from_db()
    exhausted.refresh_from_db()
    assert live.status == TaskResultStatus.RUNNING
    assert dead.status == TaskResultStatus.READY
    assert dead.worker_ids == ["dead"]  # the attempt stays counted
    assert exhausted.status == TaskResultStatus.FAILED
    assert exhausted.exception_class_path == "tenants.errors.TaskWorkerLost"
    assert exhausted.finished_at is not None


def test_recovery_takes_back_the_callers_own_unfinished_task(lease):
    lease("me")
    own = _running_task("me")

    assert abandoned_tasks_recover(backend_name="default", worker_id="me", max_attempts=3) == 1
    own.refresh_from_db()
    assert own.status == TaskResultStatus.READY


def test_a_workers_outcome_is_not_recorded_once_another_worker_took_its_task_over():
    task = _running_task("slow")
    claim = list(task.worker_ids)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING, worker_ids=["slow", "next"]
    )

    done = task_requeue_or_fail(task, claim, max_attempts=1, error=RuntimeError("late"))

    assert done is False
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING
    assert task.worker_ids == ["slow", "next"]


def test_two_workers_cannot_share_an_id(lease):
    lease("twin")
    assert lease_key("twin") in held_lease_keys()

    with pytest.raises(LeaseTaken):
        WorkerLease("twin").acquire()


def test_a_lease_whose_connection_drops_is_taken_again(lease, monkeypatch):
    monkeypatch.setattr(worker_module, "LEASE_CHECK_SECONDS", 0.05)
    held = lease(f"restart-{uuid.uuid4().hex[:8]}")
    before = _lease_backend(held.key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [before])

    wait_for(lambda: held.retaken_at > float("-inf"), timeout=10, what="the lease taken again")
    assert held.held.is_set()
    assert _lease_backend(held.key) not in (None, before)


def _lease_backend(key: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 2",
            [worker_module.LEASE_CLASS, key],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_lease_ends_with_its_worker(lease):
    held = lease("leaving")
    held.release()
    assert lease_key("leaving") not in held_lease_keys()


# --- Tasks safe to run twice ------------------------------------------------------------------


def test_a_stray_spare_schema_is_dropped_but_a_town_named_like_one_is_kept():
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "spare_0123456789ab"')
        cursor.execute('CREATE SCHEMA "spare_abcdefabcdef"')
    Municipality.objects.create(
        name="Ville de Réserve",
        slug="spare-abcdefabcdef",
        schema_name="spare_abcdefabcdef",
        region=Region.LAVAL,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@reserve.localhost",
    )

    with transaction.atomic():
        assert stray_spares_drop() == ["spare_0123456789ab"]

    assert not schema_exists("spare_0123456789ab")
    assert schema_exists("spare_abcdefabcdef")


def test_a_refill_drops_stray_spares_before_counting():
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "spare_00000000beef"')

    assert spare_pool_refill(size=0) == 0
    assert not schema_exists("spare_00000000beef")
