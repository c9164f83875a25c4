"""django-tenants' migrate_schemas, quick when towns are up to date, and failure-tolerant.

A plain run (`migrate_schemas`, with `--noinput`, `--executor`, `--shared` or `--tenant` only)
migrates the public schema, then compares in one query which towns and spare schemas lack a
migration the code has; only those are migrated, in parallel (`--processes`, default
RELAIS_MIGRATION_PROCESSES: as many database connections), each town on its own: a town whose
migration fails is reported by name and the others carry on, and the command then fails; run
it again once the cause is fixed, it applies what is left. Any other use (a schema, an app or
a migration named, `--fake`, `--plan`, `--check`…) is django-tenants' own, spares included.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import (
    GET_EXECUTOR_FUNCTION,
    MigrateSchemasCommand,
)
from django_tenants.migration_executors import get_executor
from django_tenants.migration_executors.base import run_migrations
from psycopg import sql

# The options of a plain run, whatever their value; any other option set takes django-tenants'
# own path.
_PLAIN_OPTIONS = {"app_label", "migration_name", "fake", "fake_initial", "plan", "prune"}
_PLAIN_OPTIONS |= {"check_unapplied", "run_syncdb", "schema_name"}


@dataclass(frozen=True)
class Failure:
    schema: str
    error: str


def schemas_behind(schemas: list[str]) -> list[str]:
    """The schemas among `schemas` that lack a migration the code has, in one query over all
    of them (a schema's extra rows, of migrations since removed, do not matter)."""
    if not schemas:
        return []
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    expected = sorted(graph.nodes)
    part = sql.SQL(
        "SELECT {name} AS schema_name, count(*) AS applied FROM {table} AS m "
        "JOIN expected AS e ON (e.app, e.name) = (m.app, m.name)"
    )
    query = sql.SQL(
        "WITH expected(app, name) AS (SELECT * FROM unnest({apps}::text[], {names}::text[])), "
        "applied AS ({parts}) "
        "SELECT s.schema_name FROM unnest({schemas}::text[]) AS s(schema_name) "
        "LEFT JOIN applied AS a USING (schema_name) "
        "WHERE coalesce(a.applied, 0) < {count} ORDER BY 1"
    ).format(
        apps=sql.Literal([app for app, _name in expected]),
        names=sql.Literal([name for _app, name in expected]),
        schemas=sql.Literal(schemas),
        count=sql.Literal(len(expected)),
        parts=sql.SQL(" UNION ALL ").join(
            part.format(name=sql.Literal(schema), table=sql.Identifier(schema, "django_migrations"))
            for schema in schemas
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection))
        return [name for (name,) in cursor.fetchall()]


def _migrate_one(job: tuple[list[Any], dict[str, Any], int, int, str]) -> Failure | None:
    """Migrate one schema (in a pool's process, or in this one); its failure, never raised:
    one town's broken migration must not stop the others."""
    args, options, index, count, schema = job
    try:
        run_migrations(
            args,
            options,
            "multiprocessing",
            schema,
            allow_atomic=options["processes"] == 1,
            idx=index,
            count=count,
        )
    # Any error of a town's migration is reported, whatever it is.
    except Exception as error:
        return Failure(schema, f"{type(error).__name__}: {error}")
    return None


class Command(MigrateSchemasCommand):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="schémas migrés en parallèle, une connexion chacun (défaut : "
            "RELAIS_MIGRATION_PROCESSES ; --executor=standard : 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if any(options.get(name) for name in _PLAIN_OPTIONS):
            self._library_handle(*args, **options)
            return
        SyncCommon.handle(self, *args, **options)
        processes = options["processes"] or (
            1
            if options.get("executor") in (None, "standard")
            else settings.RELAIS_MIGRATION_PROCESSES
        )
        options["processes"] = max(1, processes)
        if self.sync_public:
            executor = (GET_EXECUTOR_FUNCTION or get_executor)(codename="standard")
            executor(self.args, self.options).run_migrations(tenants=["public"])
        if not self.sync_tenant:
            return
        from tenants.models import Municipality, SpareSchema

        towns = dict(
            Municipality.objects.exclude(schema_name="public").values_list("schema_name", "name")
        )
        schemas = sorted(towns) + sorted(SpareSchema.objects.values_list("schema_name", flat=True))
        behind = schemas_behind(schemas)
        self.stdout.write(
            f"{len(schemas) - len(behind)} schéma(s) à jour, {len(behind)} à migrer "
            f"({options['processes']} à la fois)."
        )
        failures = self._migrate(behind, options)
        if failures:
            for failure in failures:
                town = towns.get(failure.schema, "schéma de réserve")
                self.stderr.write(f"Échec : {failure.schema} ({town}) : {failure.error}")
            names = ", ".join(failure.schema for failure in failures)
            raise CommandError(
                f"{len(failures)} schéma(s) non migré(s) : {names}. Les autres le sont ; "
                "relancez migrate_schemas une fois la cause corrigée."
            )

    def _migrate(self, schemas: list[str], options: dict[str, Any]) -> list[Failure]:
        # The output streams a caller may have given stay here (they do not cross a fork).
        options = {k: v for k, v in options.items() if k not in {"stdout", "stderr"}}
        jobs = [(list(self.args), options, i, len(schemas), s) for i, s in enumerate(schemas)]
        if options["processes"] == 1 or len(schemas) <= 1:
            results = [_migrate_one(job) for job in jobs]
        else:
            # Each process of the pool opens its own connection: the parent's must not be
            # shared across the fork.
            connection.close()
            context = multiprocessing.get_context("fork")
            with context.Pool(processes=options["processes"]) as pool:
                results = pool.map(_migrate_one, jobs, chunksize=1)
        sys.stdout.flush()
        return [result for result in results if result is not None]

    def _library_handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        every_tenant = self.sync_tenant and (
            not self.schema_name or self.schema_name == self.PUBLIC_SCHEMA_NAME
        )
        if not every_tenant:
            return
        from tenants.models import SpareSchema

        spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
        if spares:
            # The executor django-tenants' own command uses: the one settings name, else its
            # default (the module-level name is never None at run time, only to the checker).
            executor_class = (GET_EXECUTOR_FUNCTION or get_executor)(codename=self.executor)
            executor_class(self.args, self.options).run_migrations(tenants=spares)
