from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists

from tenants.errors import TenancyError
from tenants.models import Domain, Municipality, Region
from tenants.services import municipality_create, municipality_delete, municipality_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(db):
    return municipality_create(
        name="Ville de Terrebonne",
        slug="terrebonne",
        domain="terrebonne.localhost",
        region=Region.LANAUDIERE,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@terrebonne.localhost",
        status=Municipality.Status.LIVE,
    )


def _run(*args: str) -> str:
    out = StringIO()
    call_command("town_lifecycle", *args, stdout=out)
    return out.getvalue().strip()


def test_suspend_resume_and_archive(town, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _run("--tenant", "terrebonne", "suspend") == "terrebonne : Suspendue."
    assert client_for(town).get("/").status_code == 503
    with django_capture_on_commit_callbacks(execute=True):
        assert _run("--tenant", "terrebonne", "resume") == "terrebonne : En service."
    assert client_for(town).get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert _run("--tenant", "terrebonne", "archive") == "terrebonne : Archivée."
    assert client_for(town).get("/").status_code == 404
    assert schema_exists("terrebonne")  # archived, data kept


def test_resuming_returns_a_town_to_the_status_its_suspension_interrupted(town):
    Municipality.objects.filter(pk=town.pk).update(status=Municipality.Status.ONBOARDING)
    municipality_set_status(municipality=town, status="suspended")

    assert _run("--tenant", "terrebonne", "resume") == "terrebonne : Implantation."
    town.refresh_from_db()
    assert town.status == "onboarding"
    with pytest.raises(CommandError, match="n'est pas suspendue"):
        _run("--tenant", "terrebonne", "resume")


def test_an_archived_town_cannot_come_back_live_directly(town):
    municipality_set_status(municipality=town, status="archived")
    with pytest.raises(TenancyError) as error:
        municipality_set_status(municipality=town, status="live")
    assert error.value.code == "illegal_status_change"
    town.refresh_from_db()
    assert town.status == "archived"


def test_deletion_needs_archive_export_and_typed_confirmation(
    town, tmp_path, django_capture_on_commit_callbacks
):
    folders = [
        Path(root) / "terrebonne" for root in (settings.MEDIA_ROOT, settings.RELAIS_PRIVATE_ROOT)
    ]
    for folder in folders:  # an uploaded logo, a staff's attachment
        (folder / "pieces").mkdir(parents=True, exist_ok=True)
        (folder / "pieces" / "fichier.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(TenancyError) as not_archived:
        municipality_delete(municipality=town, confirmation="terrebonne")
    municipality_set_status(municipality=town, status="archived")
    town.refresh_from_db()
    with pytest.raises(TenancyError) as no_export:
        municipality_delete(municipality=town, confirmation="terrebonne")
    call_command(
        "export_tenant", tenant="terrebonne", output=str(tmp_path / "t.tar.gz"), stdout=StringIO()
    )
    with pytest.raises(CommandError, match="Tapez l'identifiant"):
        _run("--tenant", "terrebonne", "delete", "--confirm", "terebonne")

    assert (not_archived.value.code, no_export.value.code) == ("not_archived", "no_export")
    assert schema_exists("terrebonne")
    with django_capture_on_commit_callbacks(execute=True):
        assert _run("--tenant", "terrebonne", "delete", "--confirm", "terrebonne") == (
            "terrebonne : supprimée."
        )
    assert not schema_exists("terrebonne")
    assert not Municipality.objects.filter(slug="terrebonne").exists()
    assert not Domain.objects.filter(domain="terrebonne.localhost").exists()
    assert [folder.exists() for folder in folders] == [False, False]  # its files went with it


def test_an_export_older_than_the_archiving_does_not_count(town, tmp_path):
    call_command(
        "export_tenant", tenant="terrebonne", output=str(tmp_path / "old.tar.gz"), stdout=StringIO()
    )
    municipality_set_status(municipality=town, status="archived")
    town.refresh_from_db()

    with pytest.raises(TenancyError) as error:
        municipality_delete(municipality=town, confirmation="terrebonne")

    assert error.value.code == "no_export"
    assert schema_exists("terrebonne")


def test_a_host_with_partners_cannot_be_deleted(laval, levis, tmp_path):
    municipality_set_status(municipality=laval, status="archived")
    laval.refresh_from_db()
    call_command(
        "export_tenant", tenant="laval", output=str(tmp_path / "l.tar.gz"), stdout=StringIO()
    )

    with pytest.raises(TenancyError) as error:
        municipality_delete(municipality=laval, confirmation="laval")

    assert error.value.code == "has_partners"
    assert schema_exists("laval")
