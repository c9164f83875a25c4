from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tenants.errors import TenancyError
from tenants.models import Domain, Municipality, Region
from tenants.services import municipality_create, municipality_set_status
from tenants.validators import contrast_with_white

pytestmark = pytest.mark.django_db


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def _create(**overrides):
    fields = {
        "name": "Ville de Terrebonne",
        "slug": "terrebonne",
        "domain": "terrebonne.localhost",
        "region": Region.LANAUDIERE,
        "privacy_officer_name": "Responsable",
        "privacy_officer_email": "vie-privee@terrebonne.localhost",
    } | overrides
    return municipality_create(**fields)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "saint_jerome"}, "slug"),
        ({"slug": "-laval"}, "slug"),
        ({"slug": "Terrebonne"}, "slug"),
        ({"slug": "www"}, "slug"),
        ({"domain": "terre_bonne.localhost"}, "domain"),
        ({"domain": "localhost"}, "domain"),
        ({"primary_colour": "#ffcc00"}, "primary_colour"),
        ({"primary_colour": "bleu"}, "primary_colour"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_created(overrides, field):
    schemas_before = _schemas()
    count_before = Municipality.objects.count()
    with pytest.raises(ValidationError) as error:
        _create(**overrides)

    assert field in error.value.message_dict
    assert Municipality.objects.count() == count_before
    assert _schemas() == schemas_before


def test_an_unknown_time_zone_is_refused():
    town = Municipality(
        name="X",
        slug="x",
        region=Region.LAVAL,
        privacy_officer_name="R",
        privacy_officer_email="r@x.localhost",
        time_zone="Mars/Olympus",
    )
    with pytest.raises(ValidationError) as error:
        town.full_clean()
    assert "time_zone" in error.value.message_dict


def test_a_taken_domain_is_refused_and_nothing_is_created(laval):
    schemas_before = _schemas()

    with pytest.raises(TenancyError) as error:
        _create(domain="laval.localhost")

    assert error.value.code == "domain_taken"
    assert error.value.status == 409
    assert "laval.localhost" in error.value.message
    assert not Municipality.objects.filter(slug="terrebonne").exists()
    assert _schemas() == schemas_before


def test_an_existing_schema_is_never_adopted(laval):
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA terrebonne")
        cursor.execute("CREATE TABLE terrebonne.vestige (id int)")

    with pytest.raises(TenancyError) as error:
        _create()

    assert error.value.code == "schema_exists"
    assert not Municipality.objects.filter(slug="terrebonne").exists()


@pytest.mark.parametrize("slug", ["information-schema", "pg-catalog", "pg-toast"])
def test_postgresql_schema_names_are_reserved(slug):
    with pytest.raises(ValidationError) as error:
        _create(slug=slug, domain=f"{slug}.localhost")
    assert "slug" in error.value.message_dict


def test_domains_are_stored_lowercase(laval):
    domain = Domain.objects.create(domain="Requetes.LAVAL.localhost", tenant=laval)
    domain.refresh_from_db()
    assert domain.domain == "requetes.laval.localhost"


def test_a_host_town_has_no_host(laval):
    with pytest.raises(ValidationError) as error:
        _create(kind=Municipality.Kind.HOST, host=laval)
    assert "host" in error.value.message_dict


def test_a_partner_is_served_by_a_host_not_by_a_partner(levis):
    with pytest.raises(ValidationError) as error:
        _create(host=levis)
    assert "host" in error.value.message_dict


def test_creating_a_town_makes_its_schema_and_primary_domain():
    town = _create(
        slug="saint-jerome", domain="saint-jerome.localhost", name="Ville de Saint-Jérôme"
    )

    assert town.schema_name == "saint_jerome"
    assert "saint_jerome" in _schemas()
    domain = Domain.objects.get(tenant=town)
    assert (domain.domain, domain.is_primary) == ("saint-jerome.localhost", True)


def test_brand_colour_contrast_is_computed_as_wcag_does():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    assert round(contrast_with_white("#767676"), 2) == 4.54


def test_an_unknown_status_is_refused_and_nothing_changes(laval):
    with pytest.raises(ValidationError) as error:
        municipality_set_status(municipality=laval, status="en-vacances")

    assert "status" in error.value.message_dict
    laval.refresh_from_db()
    assert laval.status == Municipality.Status.LIVE
