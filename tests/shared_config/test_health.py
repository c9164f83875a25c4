from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from shared_config import health

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("town", ["laval", "levis", None])
def test_healthz_answers_on_every_host(client_for, platform_client, town):
    client = client_for(f"{town}.localhost") if town else platform_client

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    ("host", "schema"), [("laval.localhost", "laval"), ("localhost", "public")]
)
def test_readyz_checks_the_database_and_the_hosts_schema(client_for, laval, host, schema):
    response = client_for(host).get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "schema": schema,
        "checks": {"database": "ok", "migrations": "ok"},
    }


def test_readyz_reports_pending_migrations(client_for, levis, monkeypatch):
    monkeypatch.setattr(health, "_migrated_schemas", set())
    with schema_context(levis.schema_name), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'sessions'")

    response = client_for(levis).get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": "ok", "migrations": "1 pending"}
    assert client_for("laval.localhost").get("/readyz").status_code == 200
