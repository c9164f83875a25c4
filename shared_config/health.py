"""Health endpoints, answered on every host: /healthz (process up), /readyz (database ready)."""

from __future__ import annotations

from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from tenants.db import connection

# Schemas already found fully migrated by this process. Code and migrations only change with a
# new process, so a schema found ready stays ready; probes then cost one `SELECT 1`.
_migrated_schemas: set[str] = set()


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _pending_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    schema = connection.schema_name
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        if schema not in _migrated_schemas:
            pending = _pending_migrations()
            if pending:
                checks["migrations"] = f"{pending} pending"
            else:
                _migrated_schemas.add(schema)
        checks.setdefault("migrations", "ok")
    except DatabaseError:
        checks.setdefault("database", "unreachable")
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "schema": schema, "checks": checks},
        status=200 if ready else 503,
    )
