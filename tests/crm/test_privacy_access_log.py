"""Law 25: staff reads of citizens' data outside the citizen's own page are in the access log
(the admin's request and interaction pages and request search, the REST API's request list and
detail), with a purpose derived from what was shown or given by the caller."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import AccessLog
from crm.services import citizen_create, interaction_record
from tests.crm.admin_helpers import admin_url
from tests.factories import ApiKeyFactory, ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _log(schema: str = "laval") -> list[tuple]:
    with schema_context(schema):
        return list(
            AccessLog.objects.order_by("pk").values_list(
                "actor__email", "citizen_id", "action", "purpose", "context", "details"
            )
        )


# --- Admin ---------------------------------------------------------------------------------------


def test_a_request_page_in_the_admin_logs_its_citizen_with_the_request_as_purpose(
    laval, catalog, town_admin
):
    with schema_context("laval"):
        roy = citizen_create(actor=None, first_name="Léa", last_name="Roy")
        named = ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy)
        anonymous = ServiceRequestFactory(service_type=catalog["pothole"])

    page = town_admin.get(admin_url("servicerequest_change", named.pk))
    without_citizen = town_admin.get(admin_url("servicerequest_change", anonymous.pk))

    assert page.status_code == 200
    assert "Léa Roy" in page.text
    assert without_citizen.status_code == 200
    assert _log() == [
        (
            "admin@laval.qc.ca",
            roy.pk,
            "view",
            f"Traitement de la requête {named.number}",
            "admin",
            f"Requête(s) {named.number}",
        )
    ]


def test_a_refused_request_page_logs_nothing(laval, catalog, staff_client):
    with schema_context("laval"):
        service_request = ServiceRequestFactory(
            service_type=catalog["pothole"], citizen=citizen_create(actor=None, last_name="Roy")
        )
    no_permission = staff_client(laval, "agent", email="agent@laval.qc.ca")

    response = no_permission.get(admin_url("servicerequest_change", service_request.pk))

    assert response.status_code == 403
    assert _log() == []


def test_searching_requests_in_the_admin_is_a_logged_list_access(laval, catalog, town_admin):
    with schema_context("laval"):
        ServiceRequestFactory(
            service_type=catalog["pothole"],
            citizen=citizen_create(actor=None, last_name="Roy"),
            address="4, rue Tremblay",
        )
        ServiceRequestFactory(service_type=catalog["pothole"], address="9, rue Tremblay")
        ServiceRequestFactory(service_type=catalog["pothole"], address="1, boulevard Lévesque")

    browsed = town_admin.get(admin_url("servicerequest_changelist"))
    searched = town_admin.get(admin_url("servicerequest_changelist"), {"q": "Tremblay"})

    assert (browsed.status_code, searched.status_code) == (200, 200)
    assert _log() == [
        (
            "admin@laval.qc.ca",
            None,
            "view",
            "Recherche de requêtes dans l'administration",
            "admin",
            "2 requête(s), recherche « Tremblay »",
        )
    ]


def test_an_interaction_page_in_the_admin_logs_its_citizen(laval, catalog, town_admin):
    with schema_context("laval"):
        roy = citizen_create(actor=None, last_name="Roy")
        interaction = interaction_record(
            actor=None, channel="phone", summary="Appel de Mme Roy", citizen=roy
        )

    response = town_admin.get(admin_url("interaction_change", interaction.pk))

    assert response.status_code == 200
    assert _log() == [
        (
            "admin@laval.qc.ca",
            roy.pk,
            "view",
            f"Consultation de l'interaction n° {interaction.pk}",
            "admin",
            "",
        )
    ]


# --- REST API ------------------------------------------------------------------------------------


def test_a_staff_list_of_requests_logs_each_citizen_shown_once(laval, catalog, staff_client):
    with schema_context("laval"):
        roy = citizen_create(actor=None, last_name="Roy")
        gagnon = citizen_create(actor=None, last_name="Gagnon")
        first, second = (
            ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy),
            ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy),
        )
        third = ServiceRequestFactory(service_type=catalog["pothole"], citizen=gagnon)
        ServiceRequestFactory(service_type=catalog["pothole"])
    agent = staff_client(laval, "agent", email="agent@laval.qc.ca")

    default = agent.get("/api/v1/requests/")
    stated = agent.get("/api/v1/requests/", {"purpose": "Appel 311 de Mme Roy", "page_size": 1})

    assert (default.status_code, stated.status_code) == (200, 200)
    assert stated.json()["results"][0]["citizen_id"] is None
    assert len(default.json()["results"]) == 4
    # Newest first: the request without citizen, Gagnon's, then Roy's two (one row for Roy).
    # The page with a stated purpose showed only the request without citizen: no row.
    assert _log() == [
        (
            "agent@laval.qc.ca",
            gagnon.pk,
            "view",
            "Consultation d'une liste de requêtes",
            "api",
            f"Requête(s) {third.number}",
        ),
        (
            "agent@laval.qc.ca",
            roy.pk,
            "view",
            "Consultation d'une liste de requêtes",
            "api",
            f"Requête(s) {second.number}, {first.number}",
        ),
    ]
    with_purpose = agent.get("/api/v1/requests/", {"purpose": "Appel 311", "page_size": 2})
    assert with_purpose.status_code == 200
    assert _log()[2:] == [
        ("agent@laval.qc.ca", gagnon.pk, "view", "Appel 311", "api", f"Requête(s) {third.number}")
    ]


def test_a_staff_request_detail_logs_its_citizen_with_the_request_or_the_stated_purpose(
    laval, catalog, staff_client
):
    with schema_context("laval"):
        roy = citizen_create(actor=None, last_name="Roy")
        service_request = ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy)
    supervisor = staff_client(
        laval, "supervisor", email="chef@laval.qc.ca", department=catalog["roads"]
    )
    path = f"/api/v1/requests/{service_request.number}/"

    derived = supervisor.get(path)
    stated = supervisor.get(path, {"purpose": "Plainte au conseil"})
    too_long = supervisor.get(path, {"purpose": "x" * 201})

    assert (derived.status_code, stated.status_code) == (200, 200)
    assert derived.json()["citizen_id"] == roy.pk
    assert too_long.status_code == 400
    assert "purpose" in too_long.json()["error"]["fields"]
    assert [(row[1], row[3]) for row in _log()] == [
        (roy.pk, f"Traitement de la requête {service_request.number}"),
        (roy.pk, "Plainte au conseil"),
    ]


def test_citizens_and_keys_reading_requests_write_nothing(laval, catalog):
    with schema_context("laval"):
        account = UserFactory(email="lea@exemple.qc.ca")
        roy = citizen_create(actor=None, last_name="Roy")
        roy.account = account
        roy.save()
        service_request = ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy)
        key = ApiKeyFactory(name="Lecture", scope="read").secret
        citizen_client = Client(HTTP_HOST="laval.localhost")
        citizen_client.force_login(account)
    key_client = Client(HTTP_HOST="laval.localhost", HTTP_AUTHORIZATION=f"Api-Key {key}")

    own = citizen_client.get(f"/api/v1/requests/{service_request.number}/")
    listed = key_client.get("/api/v1/requests/", {"purpose": "Intégration"})

    assert (own.status_code, listed.status_code) == (200, 200)
    assert _log() == []


def test_the_staff_list_stays_at_a_constant_number_of_queries_with_one_insert(
    laval, catalog, staff_client
):
    with schema_context("laval"):
        for n in range(12):
            ServiceRequestFactory(
                service_type=catalog["pothole"],
                citizen=citizen_create(actor=None, email=f"c{n}@exemple.qc.ca"),
            )
    agent = staff_client(laval, "agent", email="agent@laval.qc.ca")
    agent.get("/api/v1/requests/", {"page_size": 1})  # warm the session

    def inserts_and_queries(page_size: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = agent.get("/api/v1/requests/", {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        statements = [query["sql"] for query in captured.captured_queries]
        inserts = [sql for sql in statements if sql.startswith('INSERT INTO "crm_accesslog"')]
        return len(inserts), len(statements)

    assert inserts_and_queries(2) == inserts_and_queries(10)
    assert inserts_and_queries(10)[0] == 1
    with schema_context("laval"):
        # The warm-up page, then pages of 2, 10 and 10 rows: one row per citizen shown.
        assert AccessLog.objects.count() == 1 + 2 + 10 + 10


def test_the_schema_and_docs_describe_the_purpose_of_request_reads(laval, client_for):
    schema = json.loads(client_for(laval).get("/api/schema/", {"format": "json"}).content)

    for path in ("/api/v1/requests/", "/api/v1/requests/{number}/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["purpose"].get("required", False) is False
        assert "journal des accès" in parameters["purpose"]["description"]


def test_another_town_sees_none_of_these_log_lines(laval, levis, catalog, town_admin, staff_client):
    with schema_context("laval"):
        service_request = ServiceRequestFactory(
            service_type=catalog["pothole"], citizen=citizen_create(actor=None, last_name="Roy")
        )
    staff_client(laval, "agent", email="agent@laval.qc.ca").get("/api/v1/requests/")
    town_admin.get(admin_url("servicerequest_change", service_request.pk))

    assert len(_log()) == 2
    assert _log(levis.schema_name) == []


def test_workflow_answers_that_show_the_citizen_are_logged(laval, catalog, staff_client):
    with schema_context("laval"):
        roy = citizen_create(actor=None, last_name="Roy")
        service_request = ServiceRequestFactory(service_type=catalog["pothole"], citizen=roy)
    agent = staff_client(laval, "agent", email="agent@laval.qc.ca")

    moved = agent.post(
        f"/api/v1/requests/{service_request.number}/status/",
        {"status": "in_progress"},
        content_type="application/json",
    )
    assigned = agent.post(
        f"/api/v1/requests/{service_request.number}/assignment/",
        {"assignee": "agent@laval.qc.ca"},
        content_type="application/json",
    )

    assert (moved.status_code, assigned.status_code) == (200, 200)
    with schema_context("laval"):
        logged = list(AccessLog.objects.filter(citizen=roy).values_list("context", flat=True))
    assert logged == ["api", "api"]
