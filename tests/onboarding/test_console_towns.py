"""A town's page in the console: lifecycle, export and download, deletion, and the two imports
(an Open311 service list, historical requests with a column-mapping step)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context, schema_exists

from crm.models import ServiceRequest, ServiceType
from onboarding.models import AuditEntry, OnboardingProject
from onboarding.services import project_start
from tenants.models import Municipality, Region
from tenants.services import municipality_create
from tests.factories import DepartmentFactory, ServiceTypeFactory
from tests.onboarding.console_helpers import console_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings, tmp_path):
    settings.RELAIS_EXPORT_DIR = tmp_path / "exports"


def _file(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"))


def test_an_operator_suspends_resumes_and_archives_a_town(levis, operator):
    base = "/console/municipalites/levis"

    page = operator.get(f"{base}/")
    operator.post(f"{base}/statut/", {"action": "suspend"})
    levis.refresh_from_db()
    suspended = levis.status
    operator.post(f"{base}/statut/", {"action": "resume"})
    levis.refresh_from_db()

    assert page.status_code == 200
    assert (suspended, levis.status) == ("suspended", "live")
    assert list(
        AuditEntry.objects.filter(target="levis")
        .order_by("at", "id")
        .values_list("action", flat=True)
    ) == ["town_suspend", "town_resume"]


def test_a_specialist_cannot_change_the_lifecycle_or_export(levis):
    specialist = console_client("spec@relais.quebec", "specialist")

    assert specialist.get("/console/municipalites/levis/").status_code == 200
    assert (
        specialist.post("/console/municipalites/levis/statut/", {"action": "suspend"}).status_code
        == 403
    )
    assert specialist.post("/console/municipalites/levis/exportation/").status_code == 403
    levis.refresh_from_db()
    assert levis.status == "live"


def test_export_download_and_deletion_of_an_archived_town(laval, operator, settings):
    town = municipality_create(
        name="Ville de Rosemère",
        slug="rosemere",
        domain="rosemere.localhost",
        region=Region.LAURENTIDES,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@rosemere.localhost",
        host=laval,
    )
    base = "/console/municipalites/rosemere"

    refused = operator.post(f"{base}/suppression/", {"confirmation": "rosemere"}, follow=True)
    assert "archivée peut être supprimée" in refused.content.decode()
    operator.post(f"{base}/statut/", {"action": "archive"})
    operator.post(f"{base}/exportation/")
    export = town.exports.get()
    assert Path(export.path).parent == Path(settings.RELAIS_EXPORT_DIR).resolve()
    download = operator.get(f"{base}/exportations/{export.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"\x1f\x8b"  # gzip
    wrong = operator.post(f"{base}/suppression/", {"confirmation": "autre"}, follow=True)
    assert Municipality.objects.filter(slug="rosemere").exists()
    assert "pour confirmer la suppression" in wrong.content.decode()

    deleted = operator.post(f"{base}/suppression/", {"confirmation": "rosemere"})

    assert deleted.status_code == 302
    assert not Municipality.objects.filter(slug="rosemere").exists()
    assert not schema_exists("rosemere")
    actions = set(AuditEntry.objects.filter(target="rosemere").values_list("action", flat=True))
    assert {"town_archive", "town_export", "town_export_download", "town_delete"} <= actions


def test_an_open311_service_list_is_imported_into_one_town_only(laval, levis, operator):
    with schema_context(levis.schema_name):
        DepartmentFactory(code="travaux")
    services = json.dumps(
        [
            {"service_code": "Graffiti Removal", "service_name": "Graffitis", "metadata": False},
            {"service_code": "Pothole", "service_name": "Nid-de-poule", "metadata": False},
        ]
    )

    response = operator.post(
        "/console/municipalites/levis/import-services/",
        {
            "services_file": _file("services.json", services),
            "department": "travaux",
            "language": "fr",
        },
    )
    unknown = operator.post(
        "/console/municipalites/levis/import-services/",
        {
            "services_file": _file("services.json", services),
            "department": "nulle-part",
            "language": "fr",
        },
        follow=True,
    )

    assert response.status_code == 302
    with schema_context(levis.schema_name):
        assert set(ServiceType.objects.values_list("code", flat=True)) == {
            "graffiti-removal",
            "pothole",
        }
    with schema_context(laval.schema_name):
        assert not ServiceType.objects.filter(code="graffiti-removal").exists()
    assert "nulle-part" in unknown.content.decode()


CSV = (
    "No;Type;Date;Statut\nA-1;graffiti;2024-03-05 09:15;closed\nA-2;graffiti;2023-12-30 16:00;new\n"
)


def test_historical_requests_are_mapped_checked_then_imported(laval, levis, operator):
    with schema_context(laval.schema_name):
        ServiceTypeFactory(code="graffiti", location_required=False)
    base = "/console/municipalites/laval/import-requetes/"
    upload = operator.post(base, {"requests_file": _file("historique.csv", CSV)})
    assert upload.status_code == 302
    mapping_page = operator.get(base)
    assert mapping_page.status_code == 200
    columns = [
        choice[0] for choice in mapping_page.context["form"].fields["col_created_at"].choices
    ]
    assert columns == ["", "No", "Type", "Date", "Statut"]
    mapping = {
        "col_service_code": "Type",
        "col_created_at": "Date",
        "col_status": "Statut",
        "col_external_id": "No",
        "default_channel": "phone",
        "encoding": "utf-8-sig",
    }

    bad = operator.post(base, mapping | {"date_format": "%d/%m/%Y", "check": "1"})
    checked = operator.post(base, mapping | {"date_format": "%Y-%m-%d %H:%M", "check": "1"})
    with schema_context(laval.schema_name):
        after_check = ServiceRequest.objects.count()
    imported = operator.post(base, mapping | {"date_format": "%Y-%m-%d %H:%M", "import": "1"})

    assert bad.status_code == 422
    assert [p.line for p in bad.context["problems"]] == [2, 3]
    assert checked.status_code == 200
    assert checked.context["report"].imported == 2
    assert after_check == 0
    assert imported.status_code == 302
    with schema_context(laval.schema_name):
        assert sorted(ServiceRequest.objects.values_list("channel", "status")) == [
            ("phone", "closed"),
            ("phone", "new"),
        ]
    with schema_context(levis.schema_name):
        assert not ServiceRequest.objects.exists()
    assert AuditEntry.objects.filter(action="requests_import", target="laval").count() == 1
    # The uploaded file is gone with the import; the page asks for a new one.
    assert operator.get(base).status_code == 302


def test_a_host_with_onboarding_projects_is_not_deleted_and_says_why(laval, operator):
    host = municipality_create(
        name="Ville de Boisbriand",
        slug="boisbriand",
        domain="boisbriand.localhost",
        region=Region.LAURENTIDES,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@boisbriand.localhost",
        kind=Municipality.Kind.HOST,
    )
    project_start(
        host=host, name="Ville de Lorraine", slug="lorraine", domain="l.localhost", actor=None
    )
    base = "/console/municipalites/boisbriand"
    operator.post(f"{base}/statut/", {"action": "archive"})
    operator.post(f"{base}/exportation/")

    refused = operator.post(f"{base}/suppression/", {"confirmation": "boisbriand"}, follow=True)

    assert refused.status_code == 200
    assert "projets d" in refused.content.decode()
    assert Municipality.objects.filter(slug="boisbriand").exists()
    assert schema_exists("boisbriand")


def test_resuming_a_town_still_in_implementation_does_not_put_it_online(laval, operator):
    project = project_start(
        host=laval, name="Ville de Lorraine", slug="lorraine", domain="lo.localhost", actor=None
    )
    town = municipality_create(
        name="Ville de Lorraine",
        slug="lorraine",
        domain="lo.localhost",
        region=Region.LAURENTIDES,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@lo.localhost",
        host=laval,
    )
    OnboardingProject.objects.filter(pk=project.pk).update(municipality=town, status="provisioned")

    operator.post("/console/municipalites/lorraine/statut/", {"action": "suspend"})
    operator.post("/console/municipalites/lorraine/statut/", {"action": "resume"})

    town.refresh_from_db()
    assert town.status == "onboarding"


def test_a_replaced_or_stale_upload_is_deleted(laval, operator, settings):
    imports = Path(settings.RELAIS_EXPORT_DIR).parent / "imports"
    base = "/console/municipalites/laval/import-requetes/"
    operator.post(base, {"requests_file": _file("a.csv", CSV)})
    first = list(imports.glob("*.csv"))
    stale = imports / "abandonne.csv"
    stale.write_text("x")
    os.utime(stale, (0, 0))

    operator.post(base, {"requests_file": _file("b.csv", CSV)})

    remaining = list(imports.glob("*.csv"))
    assert len(first) == 1
    assert first[0] not in remaining
    assert stale not in remaining
    assert len(remaining) == 1


def test_an_upload_waits_for_its_own_town_only(laval, levis, operator):
    operator.post(
        "/console/municipalites/laval/import-requetes/",
        {"requests_file": _file("a.csv", CSV)},
    )

    elsewhere = operator.get("/console/municipalites/levis/import-requetes/", follow=True)
    here = operator.get("/console/municipalites/laval/import-requetes/")

    assert elsewhere.redirect_chain[-1][0] == "/console/municipalites/levis/"
    assert "abord le fichier des requêtes." in elsewhere.content.decode()
    assert here.status_code == 200
    assert here.context["file_name"] == "a.csv"


def test_an_upload_whose_file_is_gone_asks_for_a_new_one(laval, operator, settings):
    base = "/console/municipalites/laval/import-requetes/"
    operator.post(base, {"requests_file": _file("a.csv", CSV)})
    for waiting in (Path(settings.RELAIS_EXPORT_DIR).parent / "imports").glob("*.csv"):
        waiting.unlink()

    response = operator.get(base, follow=True)

    assert response.redirect_chain[-1][0] == "/console/municipalites/laval/"
    assert "plus disponible : recommencez." in response.content.decode()
