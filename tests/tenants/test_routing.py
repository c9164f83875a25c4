from __future__ import annotations

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from tenants import routing
from tenants.models import Domain, Municipality
from tenants.services import municipality_set_status

pytestmark = pytest.mark.django_db


def test_each_host_serves_its_own_town(client_for, laval, levis):
    laval_page = client_for(laval).get("/")
    levis_page = client_for(levis).get("/")

    assert laval_page.status_code == 200
    assert "Bienvenue à Laval" in laval_page.text
    assert "Lévis" not in laval_page.text
    assert levis_page.status_code == 200
    assert "Bienvenue à Lévis" in levis_page.text
    assert "Laval" not in levis_page.text


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def test_request_runs_in_the_towns_schema(client_for, laval, levis):
    client_for(laval).get("/")
    assert _search_path() == "laval, public"
    client_for(levis).get("/")
    assert _search_path() == "levis, public"


def test_an_unknown_host_after_a_town_leaves_nothing_of_that_town(client_for, levis):
    client_for(levis).get("/")
    assert connection.schema_name == "levis"

    client_for("inconnue.localhost").get("/")

    assert connection.schema_name == "public"  # logs and error reports name no town


def test_base_domain_serves_the_platform(platform_client, laval, levis):
    response = platform_client.get("/")

    assert response.status_code == 200
    assert "Relais, la plateforme de requêtes citoyennes" in response.text
    assert "//laval.localhost" in response.text
    assert "//levis.localhost" in response.text
    assert connection.schema_name == "public"


@pytest.mark.parametrize("host", ["inconnue.localhost", "www.laval.localhost", "evil.example.com"])
def test_unknown_host_gets_a_404_page_never_the_platform(client_for, host):
    response = client_for(host).get("/")

    assert response.status_code == 404
    assert "Adresse inconnue" in response.text
    assert "Unknown address" in response.text
    assert "plateforme de requêtes citoyennes" not in response.text
    assert connection.schema_name == "public"


def test_host_matching_ignores_case_and_port(client_for, laval):
    response = client_for("LAVAL.localhost:8000").get("/")

    assert response.status_code == 200
    assert "Bienvenue à Laval" in response.text


# A town's page that reads nothing from the database itself (its home page now reads the
# information bank): what these tests count is the routing's own queries.
QUIET_PAGE = "/page-qui-n-existe-pas/"


def test_routing_costs_no_query_once_warm(client_for, laval, django_assert_num_queries):
    client = client_for(laval)
    client.get(QUIET_PAGE)  # loads the routing table

    with django_assert_num_queries(0):
        response = client.get(QUIET_PAGE)
        client_for("inconnue.localhost").get("/")

    assert response.status_code == 404
    assert "Ville de Laval" in response.text or "Laval" in response.text


def test_cold_routing_table_is_one_query_for_every_host(
    client_for, laval, levis, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2) as captured:
        client_for(laval).get(QUIET_PAGE)
        client_for(levis).get(QUIET_PAGE)
        client_for("inconnue.localhost").get("/")

    domain_queries = [q for q in captured.captured_queries if "tenants_domain" in q["sql"]]
    assert len(domain_queries) == 1


def test_suspended_town_gets_a_maintenance_page(
    client_for, laval, levis, django_capture_on_commit_callbacks
):
    client_for(laval).get("/")  # warm table: the change must invalidate it
    with django_capture_on_commit_callbacks(execute=True):
        municipality_set_status(municipality=laval, status=Municipality.Status.SUSPENDED)

    response = client_for(laval).get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "3600"
    assert "Service temporairement interrompu" in response.text
    assert "Laval" in response.text
    assert client_for(levis).get("/").status_code == 200


def test_a_rolled_back_status_change_never_reaches_the_site(client_for, laval):
    client_for(laval).get("/")  # warm table
    with transaction.atomic():
        municipality_set_status(municipality=laval, status=Municipality.Status.SUSPENDED)
        transaction.set_rollback(True)

    assert client_for(laval).get("/").status_code == 200
    laval.refresh_from_db()
    assert laval.status == Municipality.Status.LIVE


def test_health_answers_on_a_suspended_town_and_on_a_bare_address(
    client_for, laval, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        municipality_set_status(municipality=laval, status=Municipality.Status.SUSPENDED)

    assert client_for(laval).get("/").status_code == 503
    assert client_for(laval).get("/healthz").status_code == 200
    assert client_for(laval).get("/readyz").json()["schema"] == "laval"
    assert client_for("10.0.0.12:8000").get("/healthz").status_code == 200
    assert client_for("10.0.0.12:8000").get("/").status_code == 404


def test_a_failed_reload_keeps_serving_the_previous_table(client_for, laval, monkeypatch):
    client_for(laval).get("/")
    monkeypatch.setattr(settings, "RELAIS_ROUTING_CACHE_SECONDS", -1)  # every request reloads

    def database_down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(routing, "_load", database_down)

    assert client_for(laval).get("/").status_code == 200
    assert client_for("inconnue.localhost").get("/").status_code == 404


def test_archived_town_is_not_found(client_for, laval, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        municipality_set_status(municipality=laval, status=Municipality.Status.ARCHIVED)

    response = client_for(laval).get("/")

    assert response.status_code == 404
    assert "Adresse inconnue" in response.text


def test_new_domain_is_routed_after_commit(client_for, laval, django_capture_on_commit_callbacks):
    assert client_for("requetes.laval.localhost").get("/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.create(domain="requetes.laval.localhost", tenant=laval, is_primary=False)

    response = client_for("requetes.laval.localhost").get("/")

    assert response.status_code == 200
    assert "Bienvenue à Laval" in response.text


def test_deleted_domain_stops_routing(client_for, laval, django_capture_on_commit_callbacks):
    assert client_for(laval).get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.filter(domain="laval.localhost").delete()

    assert client_for(laval).get("/").status_code == 404
