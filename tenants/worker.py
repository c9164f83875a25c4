"""The background task worker: django-tasks-db's `db_worker`, with a lease so that no task is
lost when its worker dies, and a loop that outlives a database restart.

django-tasks-db marks a task RUNNING when a worker claims it and records the outcome when it
ends; a worker killed in between (kill -9, out of memory, a lost machine) would leave the task
RUNNING for ever. Here each worker holds a **lease** for as long as it lives: a session-level
PostgreSQL advisory lock keyed on its id (`LEASE_CLASS`, crc32 of the id), taken on a
connection of its own and re-taken when that connection drops. PostgreSQL releases it the
moment the worker's session ends, so a RUNNING task whose last worker (the last of its
`worker_ids`) holds no lease was abandoned. Every worker looks for such tasks when it starts
and every `recovery_interval` seconds: each goes back to the queue (READY) to run again, or,
once claimed `max_attempts` times, is marked FAILED with `TaskWorkerLost`, so a task that
kills its worker cannot loop for ever. A task cut off by the database itself (OperationalError,
InterfaceError) is queued again the same way.

The race: when PostgreSQL restarts (or a worker's lease connection alone drops), every lease
is gone at once while the workers live on. Until each has taken its lease again (within
`LEASE_CHECK_SECONDS`), another worker could take a live worker's task for abandoned and queue
it again. A worker therefore skips recovery for `RECOVERY_GRACE_SECONDS` after a database
error or after taking its own lease again, and records a task's outcome only while the task
is still its own (the row still RUNNING with the same `worker_ids`), so a task taken over is
never overwritten. If the race still happens, the task runs twice, possibly at the same time:
harmless, because every task of Relais is idempotent and does its writes under advisory locks
(`tenants/locks.py`), and the task's own transaction was rolled back with the old session.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import random
import threading
import time
import zlib
from traceback import format_exception
from typing import Any

import psycopg
import sentry_sdk
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.utils import timezone
from django_tasks_db.compat import TaskContext, TaskResultStatus, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from shared_config.observability import request_id_var, task_id_var
from tenants.errors import TaskWorkerLost

logger = logging.getLogger(__name__)

# pg_locks.classid of every worker's lease; objid is the crc32 of the worker's id.
LEASE_CLASS = 0x52454C41  # "RELA"
# How often a worker checks that its lease connection is alive (and takes the lease again).
LEASE_CHECK_SECONDS = 5.0
# No recovery this long after a database error or a lost lease: the other workers are taking
# their own leases again meanwhile.
RECOVERY_GRACE_SECONDS = 3 * LEASE_CHECK_SECONDS
# Pause between two tries while the database is unreachable.
OUTAGE_RETRY_SECONDS = 1.0
DATABASE_ERRORS = (OperationalError, InterfaceError)
# A worker whose machine vanished without closing its connection loses its lease within about
# a minute (30 s idle, then 3 probes 10 s apart) instead of the system's two hours.
LEASE_KEEPALIVES = {
    "tcp_keepalives_idle": 30,
    "tcp_keepalives_interval": 10,
    "tcp_keepalives_count": 3,
}


def lease_key(worker_id: str) -> int:
    """A worker's lease key, as pg_locks.objid shows it (unsigned 32 bits)."""
    return zlib.crc32(worker_id.encode())


def _int4(value: int) -> int:
    """pg_advisory_lock(int4, int4) takes signed integers."""
    return value - (1 << 32) if value >= 1 << 31 else value


class LeaseTaken(RuntimeError):
    """Another live session holds this worker id's lease: a second worker with the same id."""


class WorkerLease:
    """A worker's proof of life: a session-level advisory lock keyed on its id, held on a
    database connection of its own for as long as the worker runs.

    A background thread checks the connection every LEASE_CHECK_SECONDS and, when it dropped
    (PostgreSQL restarted, network), connects again and takes the lease back. `held` is set
    while the lease is held; the worker claims no task without it.
    """

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.key = lease_key(worker_id)
        self.held = threading.Event()
        # When the keeper last took the lease back (monotonic); never, at first.
        self.retaken_at = float("-inf")
        self._parameters = connection.get_connection_params()
        # The keeper must not hang on a server that does not answer: it tries again instead.
        self._parameters.setdefault("connect_timeout", 10)
        self._connection: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease and keep it from a background thread.

        Raises LeaseTaken when a live worker already runs with this id, and psycopg's
        OperationalError when the database is unreachable.
        """
        if not self._take():
            raise LeaseTaken(
                f"the lease of worker id {self.worker_id} is held by another session: "
                "two workers must not share an id"
            )
        self._keeper = threading.Thread(target=self._keep, name="db-worker-lease", daemon=True)
        self._keeper.start()

    def release(self) -> None:
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(LEASE_CHECK_SECONDS * 2)
        if self.held.is_set() and self._connection is not None:
            # Said at once: closing alone frees the lease only when the server sees it closed.
            with contextlib.suppress(psycopg.Error):
                self._connection.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [LEASE_CLASS, _int4(self.key)]
                )
        self.held.clear()
        self._close()

    def _take(self) -> bool:
        self._close()
        self._connection = psycopg.connect(**self._parameters, autocommit=True)
        for name, seconds in LEASE_KEEPALIVES.items():
            self._connection.execute(f"SET {name} = {seconds}")
        row = self._connection.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [LEASE_CLASS, _int4(self.key)]
        ).fetchone()
        if not (row and row[0]):
            self._close()
            return False
        self.held.set()
        return True

    def _keep(self) -> None:
        while not self._stop.wait(LEASE_CHECK_SECONDS):
            if self.held.is_set() and self._connection is not None:
                try:
                    self._connection.execute("SELECT 1")
                    continue
                except psycopg.Error:
                    self.held.clear()
                    logger.warning("worker %s lost its lease connection", self.worker_id)
            try:
                if self._take():
                    self.retaken_at = time.monotonic()
                    logger.warning("worker %s holds its lease again", self.worker_id)
                else:
                    logger.warning(
                        "worker %s: its lease is still held by an older session; "
                        "no new task until it is released",
                        self.worker_id,
                    )
            except psycopg.Error as error:
                logger.info("worker %s: lease not taken yet (%s)", self.worker_id, error)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def held_lease_keys() -> set[int]:
    """The keys of the leases held in this database: the workers alive."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objsubid = 2 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [LEASE_CLASS],
        )
        return {int(objid) for (objid,) in cursor.fetchall()}


def _task_finish(task: DBTaskResult, claim: list[str], **fields: Any) -> bool:
    """Record what became of a claimed task, if it is still that claim's: RUNNING with the same
    `worker_ids`. Returns False (and records nothing) when another worker took it over."""
    updated = DBTaskResult.objects.filter(
        pk=task.pk, status=TaskResultStatus.RUNNING, worker_ids=claim
    ).update(**fields)
    for name, value in fields.items():
        setattr(task, name, value)
    if not updated:
        logger.warning(
            "task %s was taken over by another worker: this run's outcome (%s) is not recorded",
            task.pk,
            fields["status"],
        )
    return bool(updated)


def _task_schema(func: Any, args: Any, kwargs: Any) -> str | None:
    """The town a task works on: its `schema_name` argument (Relais's tasks take the schema
    they act on as their first argument, or by name)."""
    if isinstance(kwargs, dict) and isinstance(kwargs.get("schema_name"), str):
        return str(kwargs["schema_name"])
    try:
        first = next(iter(inspect.signature(func).parameters))
    except (StopIteration, TypeError, ValueError):
        return None
    if first == "schema_name" and args and isinstance(args[0], str):
        return str(args[0])
    return None


def _failure(error: BaseException) -> dict[str, Any]:
    return {
        "status": TaskResultStatus.FAILED,
        "finished_at": timezone.now(),
        "return_value": None,
        "exception_class_path": f"{type(error).__module__}.{type(error).__qualname__}",
        "traceback": "".join(format_exception(error)),
    }


def task_requeue_or_fail(
    task: DBTaskResult, claim: list[str], *, max_attempts: int, error: BaseException
) -> bool:
    """Give a task that did not finish back to the queue, or, once it was claimed
    `max_attempts` times, mark it FAILED with `error`. Returns False if another worker took
    the task over meanwhile."""
    attempts = len(claim)
    if attempts >= max_attempts:
        done = _task_finish(task, claim, **_failure(error))
        if done:
            logger.error(
                "task %s (%s) did not finish in %d attempts: marked failed (%s)",
                task.pk,
                task.task_path,
                attempts,
                type(error).__name__,
            )
        return done
    done = _task_finish(task, claim, status=TaskResultStatus.READY)
    if done:
        logger.warning(
            "task %s (%s) did not finish (%s): queued again after attempt %d of %d",
            task.pk,
            task.task_path,
            type(error).__name__,
            attempts,
            max_attempts,
        )
    return done


def abandoned_tasks_recover(*, backend_name: str, worker_id: str, max_attempts: int) -> int:
    """Queue again (or fail, after `max_attempts`) the RUNNING tasks whose worker is dead: its
    lease is free. Returns how many tasks were recovered.

    The calling worker must be running no task: its own RUNNING tasks, if any, are abandoned
    too (their outcome could not be recorded while the database was away).
    """
    running = list(
        DBTaskResult.objects.running()
        .filter(backend_name=backend_name)
        .values_list("pk", "worker_ids")
    )
    if not running:
        return 0
    alive = held_lease_keys()
    recovered = 0
    for pk, claim in running:
        last = claim[-1] if claim else None
        if last is not None and last != worker_id and lease_key(last) in alive:
            continue
        with transaction.atomic():
            task = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=TaskResultStatus.RUNNING, worker_ids=claim)
                .first()
            )
            if task is None:  # finished, or recovered by another worker, meanwhile
                continue
            error = TaskWorkerLost(attempts=len(claim))
            if task_requeue_or_fail(task, claim, max_attempts=max_attempts, error=error):
                recovered += 1
    return recovered


class LeasedWorker(Worker):
    """django-tasks-db's worker, holding a lease, recovering abandoned tasks, and waiting out
    database outages instead of exiting."""

    def __init__(self, *, max_attempts: int, recovery_interval: float, **options: Any) -> None:
        super().__init__(**options)
        self.max_attempts = max_attempts
        self.recovery_interval = recovery_interval
        self.lease = WorkerLease(self.worker_id)

    def run(self) -> None:
        logger.info(
            "worker %s starting: queues=%s max_attempts=%d",
            self.worker_id,
            ",".join(self.queue_names),
            self.max_attempts,
        )
        self._acquire_lease()
        try:
            if self.startup_delay and self.interval:
                time.sleep(random.random())  # noqa: S311  (spreads workers started together)
            self._serve()
        finally:
            self.lease.release()

    def _acquire_lease(self) -> None:
        while True:
            try:
                self.lease.acquire()
                return
            except psycopg.OperationalError as error:
                logger.warning("database unavailable, worker waiting: %s", error)
                time.sleep(OUTAGE_RETRY_SECONDS)

    def _serve(self) -> None:
        next_recovery = 0.0  # at once: tasks left by a worker that died before this one started
        outage = False
        while self.running:
            task_result = None
            try:
                close_old_connections()
                now = time.monotonic()
                leased = self.lease.held.is_set()
                if (
                    leased
                    and now >= next_recovery
                    and now >= self.lease.retaken_at + RECOVERY_GRACE_SECONDS
                ):
                    abandoned_tasks_recover(
                        backend_name=self.backend_name,
                        worker_id=self.worker_id,
                        max_attempts=self.max_attempts,
                    )
                    next_recovery = now + self.recovery_interval
                if leased:
                    task_result = self._claim()
                if outage:
                    logger.warning("database available again, worker %s resumes", self.worker_id)
                    outage = False
                if task_result is not None:
                    self.run_task(task_result)
            except DATABASE_ERRORS as error:
                if not outage:
                    logger.warning("database unavailable, worker waiting: %s", error)
                outage = True
                next_recovery = max(next_recovery, time.monotonic() + RECOVERY_GRACE_SECONDS)
                connections.close_all()
                time.sleep(OUTAGE_RETRY_SECONDS)
                continue

            if self.batch and leased and task_result is None:
                logger.info("worker %s: no more tasks, exiting (batch)", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("worker %s: ran %d tasks, exiting", self.worker_id, self._run_tasks)
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)

    def _claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with transaction.atomic():
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run a claimed task and record its outcome while the task is still this worker's.

        A database error queues the task again (or fails it after `max_attempts`); so does a
        forced stop (a second Ctrl+C), which is then re-raised. Anything else fails the task.
        """
        claim = list(db_task_result.worker_ids)
        backend_type: type | None = None
        recorded = False
        # The log lines of the task carry its id and the id of the request that queued it.
        arguments = db_task_result.args_kwargs
        if not isinstance(arguments, dict):
            arguments = {}
        tokens = (
            request_id_var.set(arguments.get("request_id")),
            task_id_var.set(str(db_task_result.pk)),
        )
        # Each task reports its errors in a scope of its own: tagged with the task and its
        # town, without the breadcrumbs of the tasks this worker ran before.
        reporting = contextlib.ExitStack()
        scope = reporting.enter_context(sentry_sdk.isolation_scope())
        scope.set_tag("task", db_task_result.task_path)
        started = time.perf_counter()
        try:
            self.running_task = True
            task = db_task_result.task
            backend_type = type(task.get_backend())
            task_result = db_task_result.task_result
            schema = _task_schema(task.func, task_result.args, task_result.kwargs)
            if schema:
                scope.set_tag("schema_name", schema)
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            # Inside the try: a return value that is not JSON fails the task, as in the library.
            close_old_connections()  # one that died during the task (a restart) is replaced
            recorded = _task_finish(
                db_task_result,
                claim,
                status=TaskResultStatus.SUCCESSFUL,
                finished_at=timezone.now(),
                return_value=value,
                exception_class_path="",
                traceback="",
            )
        except DATABASE_ERRORS as error:
            close_old_connections()
            recorded = task_requeue_or_fail(
                db_task_result, claim, max_attempts=self.max_attempts, error=error
            )
        except (KeyboardInterrupt, SystemExit) as error:
            close_old_connections()
            task_requeue_or_fail(db_task_result, claim, max_attempts=self.max_attempts, error=error)
            raise
        except BaseException as error:
            close_old_connections()
            recorded = _task_finish(db_task_result, claim, **_failure(error))
            if backend_type is None:
                logger.exception("task %s cannot be loaded", db_task_result.pk)
            else:
                sentry_sdk.capture_exception(error)
        finally:
            reporting.close()
            self.running_task = False
            self._run_tasks += 1
            logger.info(
                "task %s %s in %.1f ms",
                db_task_result.task_path,
                db_task_result.status,
                (time.perf_counter() - started) * 1000,
                extra={
                    "task": db_task_result.task_path,
                    "status": str(db_task_result.status),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            for var, token in zip((request_id_var, task_id_var), tokens, strict=True):
                var.reset(token)
        finished = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
        if recorded and backend_type is not None and db_task_result.status in finished:
            task_finished.send(sender=backend_type, task_result=db_task_result.task_result)
