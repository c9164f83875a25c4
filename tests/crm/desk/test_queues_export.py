"""The CSV export of a filtered queue: Excel in French opens it (UTF-8 BOM, semicolons), it
streams with a fixed number of queries, names citizens only for roles that may see them, and
logs it (Law 25)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from crm.models import AccessLog, Department
from tenants.models import Municipality
from tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
    StaffProfileFactory,
)

pytestmark = pytest.mark.django_db

EXPORT = "/personnel/files/export.csv"


def _department(town: Municipality, code: str) -> Department:
    with schema_context(town.schema_name):
        return DepartmentFactory(code=code, name_fr=f"Service {code}")


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def _rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def test_excel_in_french_opens_it_bom_semicolons_quotes_and_accents(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        snow = ServiceTypeFactory(department=roads, name_fr="Déneigement; trottoirs « Est »")
        citizen = CitizenFactory(first_name="Zoé", last_name='Côté "fils"')
        number = ServiceRequestFactory(
            service_type=snow, citizen=citizen, address="12, rue de l'Église; app. 3"
        ).number

    response = desk_client("agent").get(EXPORT)
    body = _body(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="requetes-')
    assert body.startswith("\ufeffNuméro;Type;Statut;Priorité;Secteur;Canal;")
    assert '"Déneigement; trottoirs « Est »"' in body  # quoted: it holds the separator
    assert '"Zoé Côté ""fils"""' in body
    assert body.endswith("\r\n")
    header, row = _rows(body)
    assert header == [
        "Numéro",
        "Type",
        "Statut",
        "Priorité",
        "Secteur",
        "Canal",
        "Service responsable",
        "Responsable",
        "Créée le",
        "Échéance",
        "État du délai",
        "Citoyen",
        "Adresse",
    ]
    assert row[:8] == [
        number,
        "Déneigement; trottoirs « Est »",
        "Nouvelle",
        "Normale",
        "",
        "Téléphone (311)",
        "Service voirie",
        "",
    ]
    assert row[10:] == ["Dans les délais", 'Zoé Côté "fils"', "12, rue de l'Église; app. 3"]


def test_a_cell_that_looks_like_a_formula_stays_text(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        citizen = CitizenFactory(first_name="", last_name='=HYPERLINK("http://x")')
        ServiceRequestFactory(service_type=ServiceTypeFactory(department=roads), citizen=citizen)

    (_header, row) = _rows(_body(desk_client("agent").get(EXPORT)))

    assert row[11] == '\'=HYPERLINK("http://x")'


def test_the_export_applies_the_queue_filters(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        kind = ServiceTypeFactory(department=roads)
        urgent = ServiceRequestFactory(service_type=kind, priority="urgent").number
        ServiceRequestFactory(service_type=kind)
        ServiceRequestFactory(service_type=kind, priority="urgent", status="closed")

    rows = _rows(_body(desk_client("agent").get(EXPORT, {"priority": "urgent"})))

    assert [row[0] for row in rows[1:]] == [urgent]


def test_a_bad_filter_gets_the_queue_page_with_its_message_not_a_file(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent").get(EXPORT, {"created_from": "hier"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Saisissez une date valide." in response.text


def test_an_agent_export_names_citizens_and_is_logged_once_per_citizen(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    client = desk_client("agent")
    with schema_context(laval.schema_name):
        kind = ServiceTypeFactory(department=roads)
        roy = CitizenFactory(first_name="Léa", last_name="Roy")
        first = ServiceRequestFactory(service_type=kind, citizen=roy).number
        second = ServiceRequestFactory(service_type=kind, citizen=roy).number
        ServiceRequestFactory(service_type=kind)  # no citizen: nobody to log

    body = _body(client.get(EXPORT, {"sort": "number"}))

    assert "Léa Roy" in body
    with schema_context(laval.schema_name):
        logged = list(
            AccessLog.objects.values_list("actor_id", "citizen_id", "action", "purpose", "details")
        )
    assert logged == [
        (
            client.user.pk,
            roy.pk,
            "export",
            "Exportation CSV d'une liste de requêtes",
            f"Requête(s) {first}, {second}",
        )
    ]


def test_department_staff_export_without_citizens_and_without_a_log(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    parks = _department(laval, "parcs")
    with schema_context(laval.schema_name):
        citizen = CitizenFactory(first_name="Léa", last_name="Roy")
        mine = ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads), citizen=citizen
        ).number
        ServiceRequestFactory(service_type=ServiceTypeFactory(department=parks), citizen=citizen)

    rows = _rows(_body(desk_client("department", department=roads).get(EXPORT)))

    assert "Citoyen" not in rows[0]
    assert "Adresse" not in rows[0]
    assert [row[0] for row in rows[1:]] == [mine]  # their department's only
    assert "Roy" not in str(rows)
    with schema_context(laval.schema_name):
        assert AccessLog.objects.count() == 0


def test_levis_exports_none_of_lavals_requests(
    laval: Municipality, levis: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    with schema_context(laval.schema_name):
        ServiceRequestFactory(
            service_type=ServiceTypeFactory(department=roads, name_fr="Lampadaire lavallois")
        )

    body = _body(desk_client("agent", town=levis).get(EXPORT, {"status": "all"}))

    assert len(_rows(body)) == 1  # the header alone
    assert "lavallois" not in body


def test_the_export_costs_the_same_queries_for_2_and_20_requests(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    roads = _department(laval, "voirie")
    client = desk_client("supervisor", department=roads)
    with schema_context(laval.schema_name):
        kind = ServiceTypeFactory(department=roads)
        people = [StaffProfileFactory(role="department", department=roads).user for _ in range(3)]

    def build(count: int) -> None:
        with schema_context(laval.schema_name):
            for i in range(count):
                request = ServiceRequestFactory(service_type=kind, citizen=CitizenFactory())
                request.assignee = people[i % 3]
                request.save(update_fields=["assignee"])

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            rows = _rows(_body(client.get(EXPORT)))
        return len(captured), len(rows)

    build(2)
    with_two, rows_two = queries()
    build(18)
    with_twenty, rows_twenty = queries()

    assert (rows_two, rows_twenty) == (3, 21)
    assert with_two == with_twenty


def test_english_headers_on_the_english_address(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    response = desk_client("agent").get("/en/staff/queues/export.csv")

    header = _rows(_body(response))[0]

    assert response.status_code == 200
    assert header[:3] == ["Number", "Type", "Status"]
