"""`migrate_schemas`: a plain run migrates only the towns that lack a migration (one query
tells which), and a town whose migration fails is named while the others are migrated."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.management.commands.migrate_schemas import schemas_behind

pytestmark = pytest.mark.django_db

PREVIOUS = "0023_portal_answers_by_question"
LATEST = "0024_request_subscription_token"


def _roll_back(schema: str) -> None:
    call_command("migrate_schemas", "crm", PREVIOUS, f"--schema={schema}", "--noinput", verbosity=0)


def _has_latest(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            ["crm", LATEST],
        )
        return cursor.fetchone() is not None


def _migrate(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's output, with each schema's migrations (written to the process's own
    standard output, line by line, prefixed with the schema)."""
    out = StringIO()
    call_command("migrate_schemas", "--noinput", "--executor=standard", stdout=out, stderr=out)
    return out.getvalue() + capsys.readouterr().out


def test_only_the_towns_that_lack_a_migration_are_migrated(laval, levis, capsys):
    assert schemas_behind(["laval", "levis"]) == []
    _roll_back("levis")
    assert schemas_behind(["laval", "levis"]) == ["levis"]

    output = _migrate(capsys)

    assert re.search(r"\d+ schéma\(s\) à jour, 1 à migrer", output), output
    assert f"multiprocessing:levis]   Applying crm.{LATEST}... OK" in output
    assert ":laval]" not in output
    assert _has_latest("levis")
    assert schemas_behind(["laval", "levis"]) == []


def test_a_migration_the_code_no_longer_has_does_not_make_a_town_behind(laval):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO laval.django_migrations (app, name, applied) "
            "VALUES ('crm', '0000_retiree', now())"
        )
    assert schemas_behind(["laval"]) == []


def test_a_town_whose_migration_fails_is_named_and_the_others_are_migrated(laval, levis, capsys):
    _roll_back("laval")
    _roll_back("levis")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE levis.crm_requestsubscription CASCADE")

    with pytest.raises(CommandError) as refused:
        _migrate(capsys)

    assert "1 schéma(s) non migré(s) : levis" in str(refused.value)
    assert "relancez migrate_schemas" in str(refused.value)
    assert _has_latest("laval")
    assert not _has_latest("levis")


def test_the_recorder_finds_a_schemas_migration_table_on_the_search_path_only(laval):
    from django.db.migrations.recorder import MigrationRecorder

    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA vide")
        cursor.execute("SET search_path = vide")
        assert not MigrationRecorder(connection).has_table()
        cursor.execute("SET search_path = laval")
        assert MigrationRecorder(connection).has_table()
        cursor.execute("SET search_path = laval, public")
    connection.set_schema_to_public()
