"""What a town's schema depends on outside itself: the list Citus schema-based sharding (see
docs/scaling.md) needs to stay short and known. A new foreign key or a new table of the public
schema read while serving a town fails here until it is added, with its reason, on purpose."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# Tables of the public schema a town's requests read or write, and why.
PUBLIC_TABLES_READ_BY_A_TOWN = {
    # The routing table is loaded from them (tenants/routing.py), and a town's pages name its
    # host city and its partners.
    "tenants_municipality": "routing, the town's own record",
    "tenants_domain": "routing",
    # The shared cache (rate limits, lock-outs) when Redis is not configured.
    "relais_cache": "the shared cache without Redis",
    # Background work is queued in the platform's task table, with the schema as argument.
    "django_tasks_database_dbtaskresult": "the task queue",
}


def test_no_foreign_key_leaves_a_towns_schema(laval):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text
            FROM pg_constraint c
            JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
            JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
            WHERE c.contype = 'f' AND n.nspname = %s AND fn.nspname <> n.nspname
            """,
            [laval.schema_name],
        )
        leaving = cursor.fetchall()
    assert leaving == []


def _public_only_tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "EXCEPT SELECT tablename FROM pg_tables WHERE schemaname = %s",
            [schema],
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_towns_requests_read_only_the_public_tables_listed(
    laval, catalog, api_key, client_for, staff_client
):
    public_only = _public_only_tables(laval.schema_name)
    pattern = re.compile(r'"(' + "|".join(map(re.escape, sorted(public_only))) + r')"')
    citizen = client_for(laval)
    staff = staff_client(laval, "agent")

    with CaptureQueriesContext(connection) as queries:
        assert citizen.get("/").status_code == 200
        assert citizen.get("/open311/v2/services.json").status_code == 200
        posted = citizen.post(
            "/open311/v2/requests.json",
            {
                "api_key": api_key,
                "service_code": "nid-de-poule",
                "attribute[taille]": "petit",
                "lat": "45.5701",
                "long": "-73.7012",
                "email": "camille@exemple.qc.ca",
            },
        )
        assert posted.status_code == 201, posted.content
        assert citizen.get("/open311/v2/requests.json").status_code == 200
        assert staff.get("/personnel/").status_code == 200
        assert staff.get("/api/v1/requests/").status_code == 200

    read = {match for query in queries for match in pattern.findall(query["sql"])}
    assert read <= set(PUBLIC_TABLES_READ_BY_A_TOWN), sorted(
        read - set(PUBLIC_TABLES_READ_BY_A_TOWN)
    )
