"""The cache shared by every process when Redis is not configured: a PostgreSQL table.

Rate limits and sign-in lock-outs count in the cache, so it must be one for all gunicorn
workers and every app server: a per-process cache multiplies every limit by the number of
processes. Redis (`REDIS_URL`) is the production choice; without it, this backend keeps the
same guarantees in the database that is always there.

Django's DatabaseCache costs five round trips per write (a COUNT of the whole table, a
savepoint, a SELECT, an UPDATE or INSERT, a release): here a write is one upsert, and the
table is pruned of expired entries every few hundred writes instead of counted on each.
The table (`relais_cache`, UNLOGGED: a cache needs no crash safety) lives in the public
schema, created by a migration of the `tenants` app; every town's `search_path` ends with
`public`, and every key carries the schema name (django_tenants.cache.make_key).
"""

from __future__ import annotations

import base64
import pickle
import secrets
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router

# One write in PRUNE_EVERY (on average) also deletes the expired entries.
PRUNE_EVERY = 500


class PostgresCache(DatabaseCache):
    def set(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        backend_timeout = self.get_backend_timeout(timeout)
        expires = (
            datetime.max.replace(tzinfo=UTC)
            if backend_timeout is None
            else datetime.fromtimestamp(backend_timeout, tz=UTC)
        )
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (cache_key) DO UPDATE "
                "SET value = EXCLUDED.value, expires = EXCLUDED.expires",
                [key, encoded, expires.replace(microsecond=0)],
            )
            if secrets.randbelow(PRUNE_EVERY) == 0:
                cursor.execute(f"DELETE FROM {table} WHERE expires < now()")  # noqa: S608
