"""Provisioning claims a spare schema (a rename) instead of replaying every migration."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists

from crm.models import CrmSettings, WorkingHours
from tenants.models import Municipality, Region, SpareSchema
from tenants.provisioning import claim_spare_schema, spare_pool_refill, spare_schema_create
from tenants.services import municipality_create

pytestmark = pytest.mark.django_db


def _applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def _create(slug: str = "terrebonne") -> Municipality:
    return municipality_create(
        name="Ville de Terrebonne",
        slug=slug,
        domain=f"{slug}.localhost",
        region=Region.LANAUDIERE,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@terrebonne.localhost",
    )


def test_a_spare_is_built_by_the_same_migrations_as_a_town(laval):
    spare = spare_schema_create()

    assert spare.schema_name.startswith("spare_")
    assert _applied(spare.schema_name) == _applied("laval")
    with schema_context(spare.schema_name):
        assert CrmSettings.objects.count() == 1  # data migrations ran too
        assert WorkingHours.objects.count() == 5


def test_provisioning_claims_a_spare_by_renaming_it(client_for):
    spare = spare_schema_create()

    town = _create()

    assert not schema_exists(spare.schema_name)
    assert SpareSchema.objects.count() == 0
    assert town.schema_name == "terrebonne"
    assert _applied("terrebonne") == _applied("laval")
    with schema_context("terrebonne"):
        assert CrmSettings.objects.count() == 1
    response = client_for("terrebonne.localhost").get("/")
    assert response.status_code == 200
    assert "Ville de Terrebonne" in response.text


def test_without_a_spare_provisioning_migrates_a_new_schema(laval):
    assert SpareSchema.objects.count() == 0

    _create()

    assert _applied("terrebonne") == _applied("laval")


def test_a_failed_provisioning_gives_the_spare_back():
    spare = spare_schema_create()

    def create_then_fail() -> None:
        with transaction.atomic():
            _create()
            raise RuntimeError("étape suivante en échec")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert schema_exists(spare.schema_name)
    assert not schema_exists("terrebonne")
    assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [spare.schema_name]
    assert not Municipality.objects.filter(slug="terrebonne").exists()


def test_a_stale_pool_row_is_dropped_and_the_next_spare_claimed():
    SpareSchema.objects.create(schema_name="spare_disparu")
    spare = spare_schema_create()

    town = _create()

    assert town.schema_name == "terrebonne"
    assert not schema_exists(spare.schema_name)
    assert SpareSchema.objects.count() == 0


def test_a_spare_behind_the_code_is_not_claimed():
    spare = spare_schema_create()
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{spare.schema_name}".django_migrations WHERE app = %s', ["crm"]
        )

    with transaction.atomic():
        assert claim_spare_schema("terrebonne") is False
    assert schema_exists(spare.schema_name)


def test_an_empty_pool_claims_nothing():
    with transaction.atomic():
        assert claim_spare_schema("terrebonne") is False
    assert not schema_exists("terrebonne")


def test_the_pool_refills_to_its_size():
    assert spare_pool_refill(size=2) == 2
    assert spare_pool_refill(size=2) == 0
    assert SpareSchema.objects.count() == 2


def test_migrate_schemas_keeps_spares_current():
    spare = spare_schema_create()
    with connection.cursor() as cursor:  # the spare falls one migration behind
        cursor.execute(f'DROP TABLE "{spare.schema_name}".django_session')
        cursor.execute(
            f'DELETE FROM "{spare.schema_name}".django_migrations WHERE app = %s', ["sessions"]
        )

    call_command("migrate_schemas", interactive=False, verbosity=0)

    assert ("sessions", "0001_initial") in _applied(spare.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{spare.schema_name}".django_session')
        assert cursor.fetchone() == (0,)
