"""Spare schemas: migrated in advance, claimed by a rename when a town is provisioned.

Replaying every migration while someone waits takes seconds per town; renaming a schema that
migrations already built takes milliseconds. Spares are created by the same migrations as any
town (so they are faithful), kept current by `migrate_schemas`, and never hold a town's data:
a spare is empty until it is claimed. The pool refills itself after each claim.
"""

from __future__ import annotations

import functools
import logging
import uuid

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

from tenants.db import connection
from tenants.locks import advisory_xact_lock
from tenants.models import Municipality, SpareSchema

logger = logging.getLogger(__name__)
SPARE_PREFIX = "spare_"
# Every spare's name: the prefix and 12 hexadecimal digits (see spare_schema_create).
SPARE_NAME_PATTERN = r"^spare_[0-9a-f]{12}$"
POOL_LOCK = "tenants.spare_pool"


def spare_schema_create() -> SpareSchema:
    """Create and migrate one spare schema (seconds: meant for the background).

    The schema, its migrations and its pool row are one transaction: a process killed half-way
    leaves nothing (PostgreSQL rolls back the transaction of a connection that drops).
    """
    name = f"{SPARE_PREFIX}{uuid.uuid4().hex[:12]}"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        call_command("migrate_schemas", schema_name=name, interactive=False, verbosity=0)
        connection.set_schema_to_public()
        spare = SpareSchema.objects.create(schema_name=name)
    logger.info("spare schema ready: %s", name)
    return spare


def spare_pool_refill(*, size: int | None = None) -> int:
    """Create spares until the pool holds `size` (RELAIS_SPARE_POOL_SIZE). Returns how many.

    Safe to run twice, and twice at once (a task run again after its worker died, or two
    workers): each spare is counted and created under the pool's advisory lock, so concurrent
    refills take turns and never overfill. A spare schema left without its pool row is dropped
    first (see `stray_spares_drop`).
    """
    target = settings.RELAIS_SPARE_POOL_SIZE if size is None else size
    created = 0
    with transaction.atomic():
        advisory_xact_lock(POOL_LOCK)
        stray_spares_drop()
    while True:
        with transaction.atomic():
            advisory_xact_lock(POOL_LOCK)
            if SpareSchema.objects.count() >= target:
                return created
            spare_schema_create()
        created += 1


def stray_spares_drop() -> list[str]:
    """Drop spare schemas that have no pool row (call under the pool's lock). Returns them.

    `spare_schema_create` commits a schema and its row together, so none is expected; one can
    be left by a pool row deleted by hand, or by a restored database. Such a schema holds no
    town's data (a town's schema is named after its slug, and is excluded here anyway).
    """
    with connection.cursor() as cursor:
        # One statement, one snapshot: a claim committing meanwhile (a rename and its row's
        # deletion) is seen whole or not at all.
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname ~ %s "  # noqa: S608  (model tables)
            f"AND nspname NOT IN (SELECT schema_name FROM {SpareSchema._meta.db_table}) "
            f"AND nspname NOT IN (SELECT schema_name FROM {Municipality._meta.db_table})",
            [SPARE_NAME_PATTERN],
        )
        stray = [name for (name,) in cursor.fetchall()]
        for name in stray:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    for name in stray:
        logger.warning("stray spare schema dropped: %s", name)
    return stray


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
