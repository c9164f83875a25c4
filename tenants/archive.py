"""Export of a town's schema to an archive, and its restoration into a new town.

The archive (`.tar.gz`) holds a manifest (the town's record, the migrations applied, the row
count of every table), one CSV file per table written by PostgreSQL's COPY (exact types, any
volume; generated columns are left out, PostgreSQL computes them again), and the town's files,
public uploads and private ones (the staff's attachments). Restoring provisions a new town (a
fresh, fully migrated schema), loads every table back with its ids, maps content types and
permissions by their natural keys (ids differ between schemas), moves the sequences past the
restored ids and copies the files. Sessions are not exported: nobody stays signed in through
an archive.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from tenants.errors import TenancyError, TenancyErrorCode
from tenants.models import Municipality, TownExport
from tenants.services import municipality_create

FORMAT = "relais-town-archive/1"
# Rebuilt by migrations in every schema, or never worth keeping.
SKIPPED = {"django_migrations", "django_content_type", "auth_permission", "django_session"}
# Tables whose rows point to content types or permissions: exported with natural keys.
NATURAL = {
    "django_admin_log": (
        "SELECT l.*, ct.app_label AS _app_label, ct.model AS _model FROM django_admin_log l "
        "LEFT JOIN django_content_type ct ON ct.id = l.content_type_id"
    ),
    "accounts_user_user_permissions": (
        "SELECT up.id, up.user_id, ct.app_label AS _app_label, p.codename AS _codename "
        "FROM accounts_user_user_permissions up JOIN auth_permission p ON p.id = up.permission_id "
        "JOIN django_content_type ct ON ct.id = p.content_type_id"
    ),
    "auth_group_permissions": (
        "SELECT gp.id, gp.group_id, ct.app_label AS _app_label, p.codename AS _codename "
        "FROM auth_group_permissions gp JOIN auth_permission p ON p.id = gp.permission_id "
        "JOIN django_content_type ct ON ct.id = p.content_type_id"
    ),
}
RESTORE_NATURAL = {
    "django_admin_log": (
        "INSERT INTO django_admin_log (id, action_time, object_id, object_repr, action_flag, "
        "change_message, content_type_id, user_id) SELECT t.id, t.action_time, t.object_id, "
        "t.object_repr, t.action_flag, t.change_message, ct.id, t.user_id FROM _restore t "
        "LEFT JOIN django_content_type ct ON ct.app_label = t._app_label AND ct.model = t._model"
    ),
    "accounts_user_user_permissions": (
        "INSERT INTO accounts_user_user_permissions (id, user_id, permission_id) "
        "SELECT t.id, t.user_id, p.id FROM _restore t JOIN django_content_type ct "
        "ON ct.app_label = t._app_label JOIN auth_permission p ON p.content_type_id = ct.id "
        "AND p.codename = t._codename"
    ),
    "auth_group_permissions": (
        "INSERT INTO auth_group_permissions (id, group_id, permission_id) "
        "SELECT t.id, t.group_id, p.id FROM _restore t JOIN django_content_type ct "
        "ON ct.app_label = t._app_label JOIN auth_permission p ON p.content_type_id = ct.id "
        "AND p.codename = t._codename"
    ),
}
TOWN_FIELDS = (
    "name",
    "kind",
    "population",
    "region",
    "languages",
    "time_zone",
    "privacy_officer_name",
    "privacy_officer_email",
    "display_name",
    "primary_colour",
)


@dataclass(frozen=True)
class ArchiveSummary:
    tables: dict[str, int]
    files: int

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _tables(cursor: Any, schema: str) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    )
    return [row[0] for row in cursor.fetchall() if row[0] not in SKIPPED]


def _file_roots(schema: str) -> dict[str, Path]:
    """The town's folders of files, by their folder in the archive."""
    return {
        "media": Path(settings.MEDIA_ROOT) / schema,
        "private": Path(settings.RELAIS_PRIVATE_ROOT) / schema,
    }


def _stored_columns(cursor: Any, table: str) -> list[str]:
    """The columns of `table` in the current schema that hold data (not generated ones)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy_out(cursor: Any, query: str, target: Any) -> int:
    """Stream `query` as CSV into the open file `target`; returns the number of rows."""
    with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
        for chunk in copy:
            target.write(chunk)
    return int(cursor.cursor.rowcount)


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def town_export(*, municipality: Municipality, output: Path) -> ArchiveSummary:
    """Write the town's complete archive to `output` and record it (`TownExport`).

    Every table is read from one snapshot (REPEATABLE READ, when not already inside a
    transaction), streamed to disk, and the archive appears under its name only once complete;
    it is readable by its owner only (it holds citizens' personal data).
    """
    summary = town_archive_write(municipality=municipality, output=output)
    town_export_record(municipality=municipality, output=output, summary=summary)
    return summary


def town_archive_write(*, municipality: Municipality, output: Path) -> ArchiveSummary:
    """Write the archive file of `town_export` without recording it: for a caller that records
    it (`town_export_record`) in a transaction of its own, which the snapshot cannot be part
    of."""
    counts: dict[str, int] = {}
    files = [
        (folder, root, path)
        for folder, root in _file_roots(municipality.schema_name).items()
        if root.is_dir()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]
    partial = output.with_name(f".{output.name}.partial")
    fresh_transaction = not connection.in_atomic_block
    try:
        with (
            schema_context(municipality.schema_name),
            transaction.atomic(),
            tempfile.TemporaryDirectory() as scratch,
        ):
            if fresh_transaction:  # must be the transaction's first statement
                connection.ensure_connection()
                connection.connection.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with (
                connection.cursor() as cursor,
                os.fdopen(descriptor, "wb") as handle,
                tarfile.open(fileobj=handle, mode="w:gz") as archive,
            ):
                cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
                migrations = [list(row) for row in cursor.fetchall()]
                for table in _tables(cursor, municipality.schema_name):
                    csv_path = Path(scratch) / f"{table}.csv"
                    with csv_path.open("wb") as target:
                        if table in NATURAL:
                            query = NATURAL[table]
                        else:
                            columns = ", ".join(f'"{c}"' for c in _stored_columns(cursor, table))
                            query = f'SELECT {columns} FROM "{table}"'
                        counts[table] = _copy_out(cursor, query, target)
                    archive.add(csv_path, arcname=f"tables/{table}.csv")
                    csv_path.unlink()
                for folder, root, path in files:
                    archive.add(path, arcname=f"{folder}/{path.relative_to(root)}")
                manifest = {
                    "format": FORMAT,
                    "exported_at": timezone.now().isoformat(),
                    "town": {"slug": municipality.slug, "schema": municipality.schema_name}
                    | {name: getattr(municipality, name) for name in TOWN_FIELDS},
                    "migrations": migrations,
                    "tables": counts,
                    "files": len(files),
                }
                _add(
                    archive,
                    "manifest.json",
                    json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
                )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return ArchiveSummary(tables=counts, files=len(files))


def town_export_record(
    *, municipality: Municipality, output: Path, summary: ArchiveSummary
) -> TownExport:
    """Record an archive written at `output` (a town is deleted only once one exists)."""
    return TownExport.objects.create(
        municipality=municipality,
        slug=municipality.slug,
        schema_name=municipality.schema_name,
        path=str(output.resolve()),
        rows=summary.rows,
        files=summary.files,
    )


def _invalid(message: str) -> TenancyError:
    return TenancyError(TenancyErrorCode.INVALID_ARCHIVE, message)


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    """The archive's manifest. Raises TenancyError when it is missing, is not a regular file or
    is not a JSON object."""
    invalid = _invalid(_("L'archive n'a pas de manifeste valide."))
    try:
        member = archive.extractfile("manifest.json")  # None: not a regular file
        manifest = json.loads(member.read()) if member is not None else None
    except (KeyError, ValueError) as error:
        raise invalid from error
    if not isinstance(manifest, dict):
        raise invalid
    return manifest


def town_restore(
    *, archive_path: Path, slug: str, domain: str
) -> tuple[Municipality, ArchiveSummary]:
    """Create town `slug` on `domain` from an archive written by `town_export`; all or nothing.

    Raises TenancyError for an unreadable archive, one from a newer Relais (migrations this code
    does not know), a taken slug or domain; ValidationError for invalid fields.
    """
    try:
        # Opened here, closed by the `with` below: only opening errors mean a bad archive.
        archive = tarfile.open(archive_path, "r:gz")  # noqa: SIM115
    except (OSError, tarfile.TarError) as error:
        raise _invalid(
            _("Le fichier {name} n'est pas une archive Relais lisible.").format(
                name=archive_path.name
            )
        ) from error
    with archive, tempfile.TemporaryDirectory() as scratch:
        manifest = _manifest(archive)
        if manifest.get("format") != FORMAT:
            raise _invalid(
                _("Format d'archive inconnu : {format}.").format(format=manifest.get("format"))
            )
        archive.extractall(scratch, filter="data")
        root = Path(scratch)
        town_fields = {name: manifest["town"][name] for name in TOWN_FIELDS}
        with transaction.atomic():
            extra = {name: town_fields.pop(name) for name in ("languages", "time_zone")}
            town = municipality_create(
                slug=slug, domain=domain, status=Municipality.Status.ONBOARDING, **town_fields
            )
            Municipality.objects.filter(pk=town.pk).update(**extra)
            with schema_context(town.schema_name), connection.cursor() as cursor:
                cursor.execute("SELECT app, name FROM django_migrations")
                known = {tuple(row) for row in cursor.fetchall()}
                unknown = [m for m in manifest["migrations"] if tuple(m) not in known]
                if unknown:
                    raise _invalid(
                        _(
                            "L'archive vient d'une version plus récente de Relais "
                            "({count} migrations inconnues, dont {first}) : mettez Relais à "
                            "jour avant de la restaurer."
                        ).format(count=len(unknown), first=".".join(unknown[0]))
                    )
                tables = sorted(manifest["tables"])
                present = set(_tables(cursor, town.schema_name))
                # Names come from the archive: only this schema's own tables are accepted (a
                # crafted name must never reach another town's schema or the public one).
                strangers = [t for t in tables if t not in present]
                if strangers:
                    raise _invalid(
                        _("L'archive contient des tables inconnues : {tables}.").format(
                            tables=", ".join(strangers[:5])
                        )
                    )
                # The new schema's own starting rows (settings, calendar) give way to the archive's.
                # Foreign keys are checked at commit: first settle the checks already pending
                # (TRUNCATE refuses to run with any), then defer them so that tables load in any
                # order.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables if t in present) + " CASCADE"
                )
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for table in tables:
                    loaded = _copy_in(cursor, table, root / "tables" / f"{table}.csv")
                    if loaded != manifest["tables"][table]:
                        raise _invalid(
                            _(
                                "La table {table} de l'archive compte {loaded} lignes au lieu "
                                "de {expected} : archive incomplète ou modifiée."
                            ).format(table=table, loaded=loaded, expected=manifest["tables"][table])
                        )
                cursor.execute(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() "
                    "AND (is_identity = 'YES' OR column_default LIKE 'nextval%%')"
                )
                for table, column in cursor.fetchall():
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, %s), "
                        f'COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, false)',
                        [table, column],
                    )
            # Files are staged now and moved into place only if the transaction commits, so a
            # failed restore leaves nothing for the next town of that name to inherit.
            staged = Path(tempfile.mkdtemp(prefix="relais-restore-"))
            targets = _file_roots(town.schema_name)
            copied = sum(_restore_media(root / folder, staged / folder) for folder in targets)

            def move_files() -> None:
                for folder, target in targets.items():
                    if (staged / folder).is_dir():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copytree(staged / folder, target, dirs_exist_ok=True)
                shutil.rmtree(staged, ignore_errors=True)

            transaction.on_commit(move_files)
    return town, ArchiveSummary(tables=manifest["tables"], files=copied)


def _copy_in(cursor: Any, table: str, path: Path) -> int:
    """Load one table's CSV; returns the rows loaded. Raises TenancyError for unknown columns."""
    if not path.is_file():
        raise _invalid(_("L'archive n'a pas le fichier de la table {table}.").format(table=table))
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        return 0
    allowed = set(_stored_columns(cursor, table)) | (
        {"_app_label", "_model", "_codename"} if table in RESTORE_NATURAL else set()
    )
    if table in RESTORE_NATURAL:
        allowed |= {"permission_id"}  # never exported, but harmless
    unknown = [column for column in header if column not in allowed]
    if unknown:
        raise _invalid(
            _("La table {table} de l'archive a des colonnes inconnues : {columns}.").format(
                table=table, columns=", ".join(unknown[:5])
            )
        )
    data = path.read_bytes()
    if table in RESTORE_NATURAL:
        columns = ", ".join(f'"{c}" text' for c in header)
        cursor.execute(f"CREATE TEMP TABLE _restore ({columns}) ON COMMIT DROP")
        target = "_restore"
    else:
        target = f'"{table}"'
    column_list = ", ".join(f'"{c}"' for c in header)
    with cursor.cursor.copy(
        f"COPY {target} ({column_list}) FROM STDIN WITH (FORMAT csv, HEADER true)"
    ) as copy:
        copy.write(data)
    loaded = int(cursor.cursor.rowcount)
    if table in RESTORE_NATURAL:
        # Cast the text columns back: the INSERT … SELECT relies on implicit casts from text.
        cursor.execute(_typed(RESTORE_NATURAL[table]))
        cursor.execute("DROP TABLE _restore")
    return loaded


def _typed(sql: str) -> str:
    return (
        sql.replace("t.id,", "t.id::bigint,")
        .replace("t.user_id", "t.user_id::bigint")
        .replace("t.group_id", "t.group_id::int")
        .replace("t.action_time", "t.action_time::timestamptz")
        .replace("t.action_flag", "t.action_flag::smallint")
    )


def _restore_media(source: Path, staged: Path) -> int:
    if not source.is_dir():
        return 0
    copied = 0
    for path in source.rglob("*"):
        if path.is_file():
            destination = staged / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
    return copied
