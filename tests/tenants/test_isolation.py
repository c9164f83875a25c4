"""Data written in one town is invisible in the other, through the ORM and over HTTP."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tests.accounts import signed_in_staff
from tests.conftest import BASE_DOMAIN, host_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_created_in_laval_does_not_exist_in_levis(laval, levis):
    with schema_context(laval.schema_name):
        UserFactory(email="agent@laval.qc.ca")
        assert User.objects.filter(email="agent@laval.qc.ca").count() == 1

    with schema_context(levis.schema_name):
        assert not User.objects.filter(email="agent@laval.qc.ca").exists()
        assert User.objects.count() == 0
    with schema_context("public"):
        assert not User.objects.filter(email="agent@laval.qc.ca").exists()


def test_the_same_email_can_exist_in_each_town_independently(laval, levis):
    with schema_context(laval.schema_name):
        UserFactory(email="camille@exemple.qc.ca", first_name="Camille de Laval")
    with schema_context(levis.schema_name):
        UserFactory(email="camille@exemple.qc.ca", first_name="Camille de Lévis")

    with schema_context(laval.schema_name):
        assert User.objects.get(email="camille@exemple.qc.ca").first_name == "Camille de Laval"
    with schema_context(levis.schema_name):
        assert User.objects.get(email="camille@exemple.qc.ca").first_name == "Camille de Lévis"


def _staff_in(town, email):
    with schema_context(town.schema_name):
        return UserFactory(email=email, is_staff=True, is_superuser=True)


def test_a_session_from_one_town_is_useless_on_another(client_for, laval, levis):
    admin = _staff_in(laval, "admin@laval.qc.ca")
    laval_client = signed_in_staff(host_of(laval), laval.schema_name, admin)
    session_cookie = laval_client.cookies["sessionid"]
    assert session_cookie["domain"] == ""  # host-only: never sent to another sub-domain
    assert laval_client.get("/admin/").status_code == 200

    # Even if the cookie were replayed on Lévis's host, Lévis has no such session.
    levis_client = client_for(levis)
    levis_client.cookies["sessionid"] = session_cookie.value
    response = levis_client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_town_administrator_cannot_see_the_municipalities(laval, levis):
    admin = _staff_in(laval, "admin@laval.qc.ca")
    client = signed_in_staff(host_of(laval), laval.schema_name, admin)

    index = client.get("/admin/")
    listing = client.get("/admin/tenants/municipality/")

    assert index.status_code == 200
    assert "Municipalités" not in index.text
    assert listing.status_code == 403
    other_town = client.get(f"/admin/tenants/municipality/{levis.pk}/change/")
    assert other_town.status_code == 403


def test_the_platform_operator_manages_the_municipalities(laval, levis):
    with schema_context("public"):
        operator = UserFactory(email="operateur@relais.qc.ca", is_staff=True, is_superuser=True)
    client = signed_in_staff(BASE_DOMAIN, "public", operator)

    listing = client.get("/admin/tenants/municipality/")

    assert listing.status_code == 200
    assert "Ville de Laval" in listing.text
    assert "Ville de Lévis" in listing.text
