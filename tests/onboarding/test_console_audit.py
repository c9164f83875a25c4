"""A console action's audit entry is part of the action: written in the same transaction, so
an action that fails leaves no entry, and an entry that cannot be written undoes the action
(deletion, imports, export)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import DatabaseError
from django_tenants.utils import schema_context, schema_exists

from crm.models import ServiceRequest, ServiceType
from onboarding.models import AuditEntry
from onboarding.services import (
    console_requests_import,
    console_services_import,
    console_town_delete,
    console_town_export,
)
from tenants.accounts.models import User
from tenants.archive import town_export
from tenants.errors import TenancyError
from tenants.models import Municipality, Region, TownExport
from tenants.services import municipality_create, municipality_set_status

pytestmark = pytest.mark.django_db

REQUESTS_CSV = b"No;Type;Date\nA-1;graffiti;2024-03-05 09:15\nA-2;graffiti;2023-12-30 16:00\n"
REQUESTS_MAPPING = {
    "external_id": "No",
    "service_code": "Type",
    "created_at": "Date",
    "defaults": {"channel": "phone", "status": "closed"},
    "date_format": "%Y-%m-%d %H:%M",
    "encoding": "utf-8-sig",
}
SERVICES = json.dumps(
    [{"service_code": "Pothole", "service_name": "Nid-de-poule", "metadata": False}]
).encode()


@pytest.fixture
def actor() -> User:
    """A platform staff account acting in the console."""
    with schema_context("public"):
        return User.objects.create_user(email="operatrice@relais.quebec")


@pytest.fixture
def audit_fails(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every later audit write fail, as a database refusing the insert would."""

    def refuse(self: AuditEntry, *args: object, **kwargs: object) -> None:
        raise DatabaseError("onboarding_auditentry is unavailable")

    return lambda: monkeypatch.setattr(AuditEntry, "save", refuse)


@pytest.fixture
def archived_town(laval: Municipality, exports_in_tmp: Path) -> Municipality:
    """A partner of Laval's, archived and exported since: ready to be deleted."""
    town = municipality_create(
        name="Ville de Rosemère",
        slug="rosemere",
        domain="rosemere.localhost",
        region=Region.LAURENTIDES,
        privacy_officer_name="Greffe",
        privacy_officer_email="greffe@rosemere.localhost",
        host=laval,
    )
    town = municipality_set_status(municipality=town, status=Municipality.Status.ARCHIVED)
    town_export(municipality=town, output=exports_in_tmp / "rosemere.tar.gz")
    return town


def _audited(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def test_a_deletion_whose_audit_cannot_be_written_deletes_nothing(
    archived_town: Municipality, actor: User, audit_fails: Callable[[], None]
) -> None:
    audit_fails()

    with pytest.raises(DatabaseError):
        console_town_delete(municipality=archived_town, confirmation="rosemere", actor=actor)

    assert Municipality.objects.filter(slug="rosemere").exists()
    assert schema_exists("rosemere")


def test_a_refused_deletion_leaves_no_audit_entry(archived_town: Municipality, actor: User) -> None:
    with pytest.raises(TenancyError):
        console_town_delete(municipality=archived_town, confirmation="autre", actor=actor)

    assert Municipality.objects.filter(slug="rosemere").exists()
    assert _audited("town_delete") == 0


def test_a_deletion_and_its_audit_entry_are_written_together(
    archived_town: Municipality, actor: User
) -> None:
    console_town_delete(municipality=archived_town, confirmation="rosemere", actor=actor)

    assert not schema_exists("rosemere")
    entry = AuditEntry.objects.get(action="town_delete")
    assert (entry.actor, entry.target) == (actor, "rosemere")


def test_a_requests_import_whose_audit_cannot_be_written_imports_nothing(
    laval: Municipality,
    import_catalog: dict,
    actor: User,
    audit_fails: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audit_fails()

    with pytest.raises(DatabaseError):
        console_requests_import(
            municipality=laval,
            content=REQUESTS_CSV,
            mapping=REQUESTS_MAPPING,
            file_name="historique.csv",
            dry_run=False,
            actor=actor,
        )

    with schema_context(laval.schema_name):
        assert not ServiceRequest.objects.exists()
    # With the audit back, the same file imports: it was the audit that undid the import.
    monkeypatch.undo()
    report = console_requests_import(
        municipality=laval,
        content=REQUESTS_CSV,
        mapping=REQUESTS_MAPPING,
        file_name="historique.csv",
        dry_run=False,
        actor=actor,
    )
    assert report.imported == 2
    with schema_context(laval.schema_name):
        assert ServiceRequest.objects.count() == 2
    assert _audited("requests_import") == 1


def test_a_service_list_whose_audit_cannot_be_written_imports_nothing(
    laval: Municipality, import_catalog: dict, actor: User, audit_fails: Callable[[], None]
) -> None:
    with schema_context(laval.schema_name):
        before = set(ServiceType.objects.values_list("code", flat=True))
    audit_fails()

    with pytest.raises(DatabaseError):
        console_services_import(
            municipality=laval,
            content=SERVICES,
            department_code="voirie",
            language="fr",
            actor=actor,
        )

    with schema_context(laval.schema_name):
        assert set(ServiceType.objects.values_list("code", flat=True)) == before


def test_an_export_whose_audit_cannot_be_written_leaves_no_record_and_no_file(
    levis: Municipality, actor: User, exports_in_tmp: Path, audit_fails: Callable[[], None]
) -> None:
    audit_fails()

    with pytest.raises(DatabaseError):
        console_town_export(municipality=levis, actor=actor)

    assert not TownExport.objects.filter(municipality=levis).exists()
    assert list((exports_in_tmp / "exports").glob("*")) == []


def test_an_export_is_recorded_with_its_audit_entry(
    levis: Municipality, actor: User, exports_in_tmp: Path
) -> None:
    export = console_town_export(municipality=levis, actor=actor)

    entry = AuditEntry.objects.get(action="town_export")
    assert (entry.target, entry.detail["file"]) == ("levis", Path(export.path).name)
    assert Path(export.path).is_file()
