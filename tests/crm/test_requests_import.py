from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from crm.imports.requests import RequestImportError, requests_import
from crm.models import EventKind, RequestCounter, RequestEvent, RoutingRule, ServiceRequest
from crm.services import request_create
from tests.factories import DepartmentFactory, SectorFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Toronto")

MAPPING = {
    "service_code": "Type",
    "created_at": "Date",
    "status": "Statut",
    "channel": "Canal",
    "description": "Description",
    "address": "Adresse",
    "latitude": "Lat",
    "longitude": "Long",
    "external_id": "No",
    "closed_at": "Fermeture",
    "values": {
        "status": {"Ouvert": "new", "Fermé": "closed", "En cours": "in_progress"},
        "channel": {"Tél.": "phone", "Internet": "web"},
        "service_code": {"NDP": "nid-de-poule"},
    },
    "date_format": "%Y-%m-%d %H:%M",
}

HEADER = "No;Type;Date;Statut;Canal;Description;Adresse;Lat;Long;Fermeture;Remarque\n"
GOOD_CSV = HEADER + (
    "A-1;NDP;2024-03-05 09:15;Fermé;Tél.;Trou profond;12, rue Principale;45,557;-73,721;"
    "2024-03-07 14:00;x\n"
    "A-2;graffiti;2023-12-30 16:00;Ouvert;Internet;Graffiti sur un abribus;;;;;\n"
    'A-3;NDP;2024-01-02 08:00;En cours;Tél.;"Deux trous; un gros";3, rue du Parc;;;;\n'
)


def _files(tmp_path, csv_text, mapping=MAPPING, encoding="utf-8"):
    csv_path = tmp_path / "historique.csv"
    csv_path.write_bytes(csv_text.encode(encoding))
    mapping_path = tmp_path / "correspondance.json"
    mapping_path.write_text(json.dumps(mapping), "utf-8")
    return str(csv_path), str(mapping_path)


def _run(tmp_path, csv_text, mapping=MAPPING, *extra, tenant="laval", encoding="utf-8"):
    csv_path, mapping_path = _files(tmp_path, csv_text, mapping, encoding)
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "import_requests",
            csv_path,
            "--tenant",
            tenant,
            "--mapping",
            mapping_path,
            *extra,
            stdout=out,
            stderr=err,
        )
    except CommandError as error:
        return None, err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), None


def _nothing_written():
    assert ServiceRequest.objects.count() == 0
    assert RequestEvent.objects.count() == 0
    assert RequestCounter.objects.count() == 0


# --- A good file ---------------------------------------------------------------------------------
def test_import_keeps_dates_maps_values_and_numbers_per_year(in_laval, import_catalog, tmp_path):
    out, err, failure = _run(tmp_path, GOOD_CSV)

    assert failure is None, err
    assert "laval : 3 requête(s) importée(s)." in out
    assert "2023 : 1 requête(s), n° 2023-000001 à 2023-000001" in out
    assert "2024 : 2 requête(s), n° 2024-000001 à 2024-000002" in out
    assert "Colonnes non importées : Remarque." in out

    by_number = {r.number: r for r in ServiceRequest.objects.all()}
    assert sorted(by_number) == ["2023-000001", "2024-000001", "2024-000002"]
    # Numbers follow the creation dates within each year, not the file's order.
    in_progress, closed = by_number["2024-000001"], by_number["2024-000002"]
    assert in_progress.description == "Deux trous; un gros"
    assert in_progress.status == "in_progress"
    assert in_progress.created_at == datetime(2024, 1, 2, 8, 0, tzinfo=TZ)
    assert in_progress.sla_due_at is not None  # still open: its SLA runs as for a new request
    assert closed.status == "closed"
    assert closed.channel == "phone"
    assert closed.created_at == datetime(2024, 3, 5, 9, 15, tzinfo=TZ)
    assert closed.closed_at == closed.resolved_at == datetime(2024, 3, 7, 14, 0, tzinfo=TZ)
    assert (closed.latitude, closed.longitude) == (Decimal("45.557000"), Decimal("-73.721000"))
    assert closed.department.code == "voirie"
    assert closed.kind == "request"
    assert closed.priority == import_catalog["pothole"].default_priority
    assert closed.sla_due_at is None
    graffiti = by_number["2023-000001"]
    assert (graffiti.service_type, graffiti.channel, graffiti.status) == (
        import_catalog["graffiti"],
        "web",
        "new",
    )
    assert graffiti.closed_at is None
    assert graffiti.resolved_at is None
    assert dict(RequestCounter.objects.values_list("year", "last_number")) == {2023: 1, 2024: 2}

    event = RequestEvent.objects.get(request=closed)
    assert event.kind == EventKind.CREATED
    assert event.visibility == "internal"
    assert event.to_status == "closed"
    assert event.created_at == closed.created_at
    assert event.data["import"]["external_id"] == "A-1"
    assert event.data["import"]["file"] == "historique.csv"
    assert event.data["import"]["line"] == 2
    assert "n° A-1" in event.message
    assert RequestEvent.objects.count() == 3


def test_later_requests_continue_the_numbering(in_laval, import_catalog, tmp_path):
    before = request_create(
        actor=None,
        service_type=import_catalog["graffiti"],
        channel="web",
        now=datetime(2024, 6, 1, 10, 0, tzinfo=TZ),
    )
    assert before.number == "2024-000001"

    _out, err, failure = _run(tmp_path, GOOD_CSV)
    assert failure is None, err

    imported = sorted(
        ServiceRequest.objects.filter(number__startswith="2024-")
        .exclude(pk=before.pk)
        .values_list("number", flat=True)
    )
    assert imported == ["2024-000002", "2024-000003"]
    after = request_create(
        actor=None,
        service_type=import_catalog["graffiti"],
        channel="web",
        now=datetime(2024, 6, 2, 10, 0, tzinfo=TZ),
    )
    assert after.number == "2024-000004"
    assert RequestCounter.objects.get(year=2024).last_number == 4
    assert RequestCounter.objects.get(year=2023).last_number == 1


def test_semicolons_cp1252_defaults_and_iso_dates(in_laval, import_catalog, tmp_path):
    mapping = {
        "service_code": "Type",
        "created_at": "Créée",
        "status": "État",
        "address": "Adresse",
        "defaults": {"channel": "counter"},
        "encoding": "cp1252",
    }
    csv_text = "Type;Créée;État;Adresse\nnid-de-poule;2022-05-01;closed;Hôtel de ville\n"

    _out, err, failure = _run(tmp_path, csv_text, mapping, encoding="cp1252")

    assert failure is None, err
    service_request = ServiceRequest.objects.get()
    assert service_request.channel == "counter"
    assert service_request.address == "Hôtel de ville"
    assert service_request.created_at == datetime(2022, 5, 1, 0, 0, tzinfo=TZ)
    assert service_request.number == "2022-000001"


def test_sector_routes_to_the_rule_department(in_laval, import_catalog, tmp_path):
    sector = SectorFactory(code="chomedey")
    parks = DepartmentFactory(code="parcs")
    RoutingRule.objects.create(sector=sector, service_type=None, department=parks)
    mapping = {
        "service_code": "Type",
        "created_at": "Date",
        "status": "Statut",
        "channel": "Canal",
        "sector": "Secteur",
    }
    csv_text = "Type,Date,Statut,Canal,Secteur\nnid-de-poule,2024-03-05,new,phone,CHOMEDEY\n"

    _out, err, failure = _run(tmp_path, csv_text, mapping)

    assert failure is None, err
    service_request = ServiceRequest.objects.get()
    assert service_request.sector == sector
    assert service_request.department == parks


# --- Line errors ---------------------------------------------------------------------------------
def test_line_errors_are_all_reported_and_nothing_is_written(in_laval, import_catalog, tmp_path):
    csv_text = HEADER + (
        "B-1;NDP;2024-03-05 09:15;Fermé;Tél.;ok;;;;;\n"
        "B-2;NDP;05/03/2024;Fermé;Tél.;date au mauvais format;;;;;\n"
        "B-3;inconnu;2024-03-05 09:15;Perdu;Pigeon;;;;;;\n"
        "B-4;NDP;2024-03-05 09:15;Ouvert;Tél.;;;12.5;-73.7;2024-03-06 10:00;\n"
        "B-1;NDP;2024-03-05 09:15;Fermé;Tél.;numéro répété;;;;;\n"
        "B-6;NDP;2024-03-05 09:15;Fermé\n"
        "B-7;NDP;2099-01-01 00:00;Fermé;Tél.;;;;;2024-01-01 00:00;\n"
    )

    out, err, failure = _run(tmp_path, csv_text)

    assert out is None
    assert failure == "10 erreur(s) : aucune requête n'a été importée."
    lines = err.splitlines()
    assert lines[0] == (
        "Ligne 3, colonne « Date » : date illisible « 05/03/2024 » "
        "(format attendu : %Y-%m-%d %H:%M)."
    )
    assert "Ligne 4, colonne « Type » : Le type de requête « inconnu » n'existe pas" in err
    assert "Ligne 4, colonne « Statut » : « Perdu » n'est pas une valeur de « status »" in err
    assert "Ligne 4, colonne « Canal » : « Pigeon » n'est pas une valeur de « channel »" in err
    assert "Ligne 5, colonne « Lat » : La latitude 12.5 est hors du Québec" in err
    assert "Ligne 5, colonne « Statut » : une requête encore ouverte (new)" in err
    assert "Ligne 6, colonne « No » : le numéro externe « B-1 » figure déjà à la ligne 2." in err
    assert "Ligne 7 : la ligne compte 4 cellule(s) au lieu de 11" in err
    assert "Ligne 8, colonne « Date » : la date 2099-01-01 00:00 est dans le futur." in err
    assert "Ligne 8, colonne « Fermeture » : cette date précède la date de création" in err
    assert len(lines) == 10
    _nothing_written()


def test_a_bad_line_in_a_large_file_stops_everything(in_laval, import_catalog, tmp_path):
    rows = [f"C-{n};NDP;2021-0{1 + n % 9}-01 10:00;Fermé;Tél.;;;;;;\n" for n in range(3000)]
    rows[2500] = "C-2500;NDP;2021-02-30 10:00;Fermé;Tél.;;;;;;\n"

    _out, err, failure = _run(tmp_path, HEADER + "".join(rows))

    assert failure is not None
    assert err.strip() == (
        "Ligne 2502, colonne « Date » : date illisible « 2021-02-30 10:00 » "
        "(format attendu : %Y-%m-%d %H:%M)."
    )
    _nothing_written()


def test_a_large_file_is_imported_in_batches(in_laval, import_catalog, tmp_path):
    rows = [f"D-{n};NDP;2021-0{1 + n % 9}-01 10:00;Fermé;Tél.;;;;;;\n" for n in range(4500)]

    _out, err, failure = _run(tmp_path, HEADER + "".join(rows))

    assert failure is None, err
    assert ServiceRequest.objects.count() == 4500
    assert RequestEvent.objects.filter(kind=EventKind.CREATED).count() == 4500
    assert RequestCounter.objects.get(year=2021).last_number == 4500
    numbers = ServiceRequest.objects.order_by("created_at", "number").values_list(
        "number", flat=True
    )
    assert list(numbers) == [f"2021-{n:06d}" for n in range(1, 4501)]


def test_an_unreadable_encoding_is_refused(in_laval, import_catalog, tmp_path):
    _out, err, failure = _run(
        tmp_path, GOOD_CSV.replace("Trou profond", "Trou à réparer"), encoding="cp1252"
    )

    assert failure is not None
    assert "n'est pas encodé en utf-8-sig" in err
    assert '"encoding": "cp1252"' in err
    _nothing_written()


def test_a_header_without_data_is_refused(in_laval, import_catalog, tmp_path):
    _out, err, failure = _run(tmp_path, HEADER + "\n;;;;;;;;;;\n")

    assert failure is not None
    assert err.strip() == "Le fichier ne contient aucune ligne de données."
    _nothing_written()


# --- The mapping ---------------------------------------------------------------------------------
def test_a_bad_mapping_is_explained_and_nothing_is_written(in_laval, import_catalog, tmp_path):
    mapping = {
        "service_code": "Type",
        "created_at": "Date",
        "statut": "Statut",
        "values": {"status": {"Fermé": "archivée"}, "couleur": {}},
        "defaults": {"channel": "pigeon"},
    }

    _out, err, failure = _run(tmp_path, GOOD_CSV, mapping)

    assert failure == "5 erreur(s) : aucune requête n'a été importée."
    assert "Correspondance : champ Relais inconnu « statut »" in err
    assert (
        "Correspondance, « defaults » : « pigeon » n'est pas une valeur de « channel » "
        "(api, app, counter, email, phone, web)." in err
    )
    assert "Correspondance, « values.status », « Fermé » : « archivée » n'est pas" in err
    assert "« values » n'accepte que" in err
    assert (
        "Correspondance : le champ obligatoire « status » n'est associé à aucune colonne ni à "
        "une valeur par défaut (« defaults »)." in err
    )
    _nothing_written()


def test_a_mapped_column_missing_from_the_header_is_refused(in_laval, import_catalog, tmp_path):
    mapping = {**MAPPING, "address": "Adresse civique"}

    _out, err, failure = _run(tmp_path, GOOD_CSV, mapping)

    assert failure == "1 erreur(s) : aucune requête n'a été importée."
    assert err.startswith(
        "Correspondance : la colonne « Adresse civique » (champ « address ») est absente de "
        "l'en-tête du fichier (colonnes : No, Type, Date,"
    )
    _nothing_written()


def test_a_mapping_that_is_not_json_is_refused(in_laval, import_catalog, tmp_path):
    csv_path, _mapping_path = _files(tmp_path, GOOD_CSV)
    with pytest.raises(CommandError, match="n'est pas du JSON valide"):
        call_command("import_requests", csv_path, "--tenant", "laval", "--mapping", "{oups")
    _nothing_written()


# --- Dry run -------------------------------------------------------------------------------------
def test_dry_run_reports_without_writing(in_laval, import_catalog, tmp_path):
    out, err, failure = _run(tmp_path, GOOD_CSV, MAPPING, "--dry-run")

    assert failure is None, err
    assert "Simulation (laval) : fichier valide, rien n'a été écrit." in out
    assert "3 requête(s) seraient importée(s)." in out
    assert "2024 : 2 requête(s), n° 2024-000001 à 2024-000002" in out
    _nothing_written()


def test_dry_run_reports_line_errors(in_laval, import_catalog, tmp_path):
    _out, err, failure = _run(tmp_path, GOOD_CSV.replace("Internet", "Fax"), MAPPING, "--dry-run")

    assert failure == "1 erreur(s) : aucune requête n'a été importée."
    assert "Ligne 3, colonne « Canal » : « Fax » n'est pas une valeur de « channel »" in err
    _nothing_written()


# --- Re-runs -------------------------------------------------------------------------------------
def test_a_rerun_skips_lines_already_imported(in_laval, import_catalog, tmp_path):
    _run(tmp_path, GOOD_CSV)
    extended = GOOD_CSV + "A-4;NDP;2024-04-01 11:00;Ouvert;Tél.;Nouveau trou;;;;;\n"

    out, err, failure = _run(tmp_path, extended)

    assert failure is None, err
    assert "laval : 1 requête(s) importée(s)." in out
    assert "3 ligne(s) déjà importée(s), ignorée(s) (n° externes : A-1, A-2, A-3)." in out
    assert ServiceRequest.objects.count() == 4
    assert ServiceRequest.objects.get(description="Nouveau trou").number == "2024-000003"
    assert RequestCounter.objects.get(year=2024).last_number == 3


def test_a_file_without_external_numbers_cannot_be_imported_twice(
    in_laval, import_catalog, tmp_path
):
    mapping = {key: value for key, value in MAPPING.items() if key != "external_id"}
    _out, err, failure = _run(tmp_path, GOOD_CSV, mapping)
    assert failure is None, err

    _out, err, failure = _run(tmp_path, GOOD_CSV, mapping)

    assert failure == "1 erreur(s) : aucune requête n'a été importée."
    assert "Ce fichier a déjà été importé" in err
    assert ServiceRequest.objects.count() == 3
    assert RequestCounter.objects.get(year=2024).last_number == 2


def test_the_service_raises_with_every_problem(in_laval, import_catalog):
    with pytest.raises(RequestImportError) as caught:
        requests_import(
            actor=None,
            content=GOOD_CSV.replace("NDP", "???").encode(),
            mapping=MAPPING,
            file_name="historique.csv",
        )

    assert caught.value.code == "invalid_file"
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "Type"), (4, "Type")]
    _nothing_written()


# --- Tenancy -------------------------------------------------------------------------------------
def test_the_other_town_sees_nothing_of_the_import(in_laval, import_catalog, levis, tmp_path):
    with schema_context(levis.schema_name):
        before = (
            ServiceRequest.objects.count(),
            RequestEvent.objects.count(),
            list(RequestCounter.objects.values_list("year", "last_number")),
        )

    _out, err, failure = _run(tmp_path, GOOD_CSV)
    assert failure is None, err
    assert ServiceRequest.objects.count() == 3

    with schema_context(levis.schema_name):
        assert (
            ServiceRequest.objects.count(),
            RequestEvent.objects.count(),
            list(RequestCounter.objects.values_list("year", "last_number")),
        ) == before
        assert not ServiceRequest.objects.filter(number__in=["2023-000001", "2024-000002"]).exists()
    # Lévis's catalog has no such types: the same file is refused there.
    _out, err, failure = _run(tmp_path, GOOD_CSV, tenant="levis")
    assert failure is not None
    assert "« NDP » : Le type de requête « nid-de-poule » n'existe pas dans le catalogue." in err
    with schema_context(levis.schema_name):
        assert ServiceRequest.objects.count() == before[0]


def test_inline_mapping_department_column_and_requests_on_hold(in_laval, import_catalog, tmp_path):
    parks = DepartmentFactory(code="parcs")
    csv_path, _mapping_path = _files(
        tmp_path,
        "Type,Date,Statut,Service\ngraffiti,2024-02-01T10:00:00-05:00,attente,PARCS\n",
    )
    mapping = {
        "service_code": "Type",
        "created_at": "Date",
        "status": "Statut",
        "department": "Service",
        "values": {"status": {"Attente": "on_hold"}},
        "defaults": {"channel": "email"},
    }
    out = StringIO()

    call_command(
        "import_requests",
        csv_path,
        "--tenant",
        "laval",
        "--mapping",
        json.dumps(mapping),
        stdout=out,
    )

    service_request = ServiceRequest.objects.get()
    assert "laval : 1 requête(s) importée(s)." in out.getvalue()
    assert service_request.department == parks
    assert service_request.status == "on_hold"
    assert service_request.channel == "email"
    assert service_request.sla_paused_at is not None
    assert service_request.sla_due_at is not None
