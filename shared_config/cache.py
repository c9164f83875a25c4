"""The cache shared by every process when Redis is not configured: a PostgreSQL table.

Rate limits and sign-in lock-outs count in the cache, so it must be one for all gunicorn
workers and every app server: a per-process cache multiplies every limit by the number of
processes. Redis (`REDIS_URL`) is the production choice; without it, this backend keeps the
same guarantees in the database that is always there.

Two departures from Django's DatabaseCache, both about these guarantees:
- **A live entry is never evicted.** Django's cache counts the table on each `add` and, past
  MAX_ENTRIES (300), deletes a third of the entries, live ones included: a lock-out or a used
  TOTP code would vanish whenever the table holds a few hundred throttle counters (and an
  attacker could make it so). Here only expired entries are deleted, every few hundred writes.
- **Each write is one statement**: `set` an upsert, `add` an upsert that only replaces an
  expired entry (so two processes adding the same key at once: exactly one succeeds), `touch`
  an update; Django's take up to five round trips.
- **Counters count in the database**: `count` (the rate limits' window counters) adds one in
  one statement, atomic under concurrent requests, starting again at 1 with a new expiry
  when the entry is missing or expired (`count_many`: several counters, one statement). A
  counter is stored as `n:<digits>` (base64 never holds a colon), which `get` reads as an
  integer, and `incr` on it is one statement too.

Expiry is compared with the clock (`clock_timestamp()`), not with the start of the current
transaction (`now()`): an entry expires on time inside a long transaction too.

The table (`relais_cache`, UNLOGGED: a cache needs no crash safety) lives in the public schema,
created by a migration of the `tenants` app; every town's `search_path` ends with `public`, and
every key carries the schema name (django_tenants.cache.make_key).
"""

from __future__ import annotations

import base64
import pickle
import secrets
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.db import connections, router

# One write in PRUNE_EVERY (on average) also deletes the expired entries.
PRUNE_EVERY = 500
# A counter adds one, or starts again at 1 with its new expiry when expired (or not a counter).
_STARTS_AGAIN = "entry.expires < clock_timestamp() OR entry.value NOT LIKE 'n:%%'"
COUNT_CONFLICT = (
    "ON CONFLICT (cache_key) DO UPDATE SET "
    f"value = CASE WHEN {_STARTS_AGAIN} "
    "THEN 'n:1' ELSE 'n:' || (substr(entry.value, 3)::bigint + 1) END, "
    f"expires = CASE WHEN {_STARTS_AGAIN} THEN EXCLUDED.expires ELSE entry.expires END"
)


class PostgresCache(DatabaseCache):
    def _expiry(self, timeout: float | None) -> datetime:
        backend_timeout = self.get_backend_timeout(timeout)
        if backend_timeout is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.fromtimestamp(backend_timeout, tz=UTC).replace(microsecond=0)

    def _write(self, sql: str, params: list[Any]) -> bool:
        """Run one write on the cache table (`{table}` in `sql`); whether it touched a row."""
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=table), params)
            written = cursor.rowcount > 0
            self._prune_sometimes(cursor, table)
        return written

    def _prune_sometimes(self, cursor: Any, table: str) -> None:
        """One write in PRUNE_EVERY (on average) also deletes the expired entries."""
        if secrets.randbelow(PRUNE_EVERY) == 0:
            cursor.execute(f"DELETE FROM {table} WHERE expires < clock_timestamp()")  # noqa: S608

    def _encoded(self, value: Any) -> str:
        if type(value) is int:
            return f"n:{value}"  # a counter: `count` and `incr` add to it in the database
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    def set(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._write(
            "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE "
            "SET value = EXCLUDED.value, expires = EXCLUDED.expires",
            [
                self.make_and_validate_key(key, version=version),
                self._encoded(value),
                self._expiry(timeout),
            ],
        )

    def add(
        self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._write(
            "INSERT INTO {table} AS entry (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE "
            "SET value = EXCLUDED.value, expires = EXCLUDED.expires "
            "WHERE entry.expires < clock_timestamp()",
            [
                self.make_and_validate_key(key, version=version),
                self._encoded(value),
                self._expiry(timeout),
            ],
        )

    def count(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None) -> int:
        """Add one to the counter `key` (created at 1, living `timeout`, when missing or
        expired) and return its new value, in one atomic statement."""
        return self.count_many([(key, timeout)], version=version)[0]

    def count_many(self, counters: Any, version: Any = None) -> list[int]:
        """`count` of several (key, timeout) at once, in one statement (the keys distinct);
        the new values in the same order."""
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        keys = [self.make_and_validate_key(key, version=version) for key, _timeout in counters]
        params: list[Any] = []
        for key, (_name, timeout) in zip(keys, counters, strict=True):
            params += [key, self._expiry(timeout)]
        rows = ", ".join(["(%s, 'n:1', %s)"] * len(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} AS entry (cache_key, value, expires) "  # noqa: S608
                f"VALUES {rows} {COUNT_CONFLICT} RETURNING cache_key, value",
                params,
            )
            values = dict(cursor.fetchall())
            self._prune_sometimes(cursor, table)
        return [int(values[key][2:]) for key in keys]

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = 'n:' || (substr(value, 3)::bigint + %s) "  # noqa: S608
                "WHERE cache_key = %s AND expires >= clock_timestamp() AND value LIKE 'n:%%' "
                "RETURNING value",
                [delta, self.make_and_validate_key(key, version=version)],
            )
            row = cursor.fetchone()
        if row is None:  # missing, expired, or not a counter: Django's read and write
            return int(super().incr(key, delta, version))
        return int(row[0][2:])

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = connections[router.db_for_read(self.cache_model_class)]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT cache_key, value FROM {table} "  # noqa: S608
                "WHERE cache_key = ANY(%s) AND expires >= clock_timestamp()",
                [list(key_map)],
            )
            rows = cursor.fetchall()
        return {key_map[key]: self._decoded(value) for key, value in rows}

    def _decoded(self, value: str) -> Any:
        if value.startswith("n:"):
            return int(value[2:])
        return pickle.loads(base64.b64decode(value.encode()))  # noqa: S301  (our own writes)

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._write(
            "UPDATE {table} SET expires = %s WHERE cache_key = %s AND expires >= clock_timestamp()",
            [self._expiry(timeout), self.make_and_validate_key(key, version=version)],
        )

    def _cull(self, db: Any, cursor: Any, now: datetime, num: int) -> None:
        """Expired entries only: a live lock-out or used code is never evicted."""
        table = connections[db].ops.quote_name(self.cache_model_class._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])  # noqa: S608


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, with the counters of the rate limits: `count` and `count_many` set
    a missing counter to 0 with its expiry and add one, in one MULTI/EXEC transaction per call
    (Django's `incr` reads then writes, and a counter expiring in between came back without an
    expiry: it would never have started again)."""

    def count(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: Any = None) -> int:
        return self.count_many([(key, timeout)], version=version)[0]

    def count_many(self, counters: Any, version: Any = None) -> list[int]:
        keys = [self.make_and_validate_key(key, version=version) for key, _timeout in counters]
        client = self._cache.get_client(keys[0], write=True)  # type: ignore[attr-defined]
        with client.pipeline(transaction=True) as pipeline:
            for key, (_name, timeout) in zip(keys, counters, strict=True):
                seconds = self.get_backend_timeout(timeout)  # relative, in Redis's cache
                pipeline.set(key, 0, ex=max(1, seconds) if seconds is not None else None, nx=True)
                pipeline.incr(key)
            results = pipeline.execute()
        return [int(value) for value in results[1::2]]
