"""Spare schemas: migrated in advance, claimed by a rename when a town is provisioned.

Replaying every migration while someone waits takes seconds per town; renaming a schema that
migrations already built takes milliseconds. Spares are created by the same migrations as any
town (so they are faithful), kept current by `migrate_schemas`, and never hold a town's data:
a spare is empty until it is claimed. The pool refills itself after each claim.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

from tenants.models import SpareSchema

logger = logging.getLogger(__name__)
SPARE_PREFIX = "spare_"
_refill_lock = threading.Lock()


def spare_schema_create() -> SpareSchema:
    """Create and migrate one spare schema (seconds: meant for the background)."""
    name = f"{SPARE_PREFIX}{uuid.uuid4().hex[:12]}"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        call_command("migrate_schemas", schema_name=name, interactive=False, verbosity=0)
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        spare = SpareSchema.objects.create(schema_name=name)
    logger.info("spare schema ready: %s", name)
    return spare


def spare_pool_refill(*, size: int | None = None) -> int:
    """Create spares until the pool holds `size` (RELAIS_SPARE_POOL_SIZE). Returns how many."""
    target = settings.RELAIS_SPARE_POOL_SIZE if size is None else size
    created = 0
    with _refill_lock:
        while SpareSchema.objects.count() < target:
            spare_schema_create()
            created += 1
    return created


def claim_spare_schema(schema_name: str) -> bool:
    """Rename a spare to `schema_name`, inside the caller's transaction.

    Returns False when the pool is empty (the caller then migrates a new schema). Concurrent
    claims each lock a different spare (SKIP LOCKED); a rolled-back claim renames nothing.
    """
    for spare in SpareSchema.objects.select_for_update(skip_locked=True).order_by("id"):
        if not schema_exists(spare.schema_name):
            spare.delete()  # a stale row would block the pool for good
            continue
        if not _is_current(spare.schema_name):
            continue  # behind this code's migrations (a deploy in progress): left to migrate
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER SCHEMA "{spare.schema_name}" RENAME TO "{schema_name}"')
        spare.delete()
        return True
    return False


@functools.lru_cache(maxsize=1)
def _code_migrations() -> frozenset[tuple[str, str]]:
    """Every migration this code has (read from disk once per process)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _is_current(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
        applied = {(app, name) for app, name in cursor.fetchall()}
    return _code_migrations() <= applied


def schedule_pool_refill() -> None:
    """Queue a refill of the pool (call after the claim commits); a worker migrates the new
    spares off the request."""
    if settings.RELAIS_SPARE_POOL_SIZE <= 0:
        return
    from tenants.tasks import refill_spare_pool  # the task module imports this one

    refill_spare_pool.enqueue()
