"""Law 25: everything a town holds on one person, exported as JSON (command and admin), and
every export written to the access log with its purpose."""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import AccessLog
from crm.privacy import citizen_export
from crm.services import (
    access_log_record,
    citizen_create,
    citizen_merge,
    consent_record,
    interaction_record,
    request_add_note,
)
from tests.accounts import signed_in_staff
from tests.conftest import BASE_DOMAIN
from tests.crm.admin_helpers import admin_url
from tests.factories import ServiceRequestFactory, ServiceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(laval):
    """Léa Roy, known twice and merged, with an account, a consent, a request with a public
    reply and an internal note, an interaction, and one earlier access."""
    with schema_context(laval.schema_name):
        agent = UserFactory(email="agent@laval.qc.ca", is_staff=True)
        account = UserFactory(email="lea@exemple.qc.ca", first_name="Léa", last_name="Roy")
        kept = citizen_create(
            actor=None, first_name="Léa", last_name="Roy", email="lea@exemple.qc.ca"
        )
        kept.account = account
        kept.save()
        merged = citizen_create(actor=None, last_name="Roy", phone="4505550199")
        consent_record(actor=agent, citizen=kept, purpose="alerts", granted=True, channel="web")
        citizen_merge(actor=agent, kept=kept, merged=merged)
        service_request = ServiceRequestFactory(
            actor=agent,
            service_type=ServiceTypeFactory(code="nid-de-poule"),
            channel="phone",
            description="Trou devant chez moi",
            address="12, rue des Érables",
            citizen=kept,
        )
        request_add_note(
            actor=agent, service_request=service_request, message="Rappeler Mme Roy", public=False
        )
        request_add_note(
            actor=agent, service_request=service_request, message="Équipe en route", public=True
        )
        interaction_record(
            actor=agent,
            channel="phone",
            summary="Mme Roy signale un trou",
            citizen=kept,
            service_request=service_request,
        )
        access_log_record(actor=agent, citizen=kept, action="view", purpose="Appel 311")
    return {
        "kept": kept,
        "merged": merged,
        "request": service_request,
        "agent": agent,
        "account": account,
    }


def test_the_document_holds_everything_on_the_person(laval, person):
    with schema_context("laval"):
        document = citizen_export(
            actor=person["agent"],
            citizen=person["merged"],  # a merged record leads to the whole person
            purpose="Demande d'accès du 3 mars",
            context="admin",
        )

    assert (document["format"], document["version"]) == ("relais.citizen-export", 2)
    assert document["municipality"] == "Ville de Laval"
    citizen = document["citizen"]
    assert (citizen["id"], citizen["first_name"], citizen["last_name"], citizen["email"]) == (
        person["kept"].pk,
        "Léa",
        "Roy",
        "lea@exemple.qc.ca",
    )
    assert citizen["phone"] == "4505550199"  # filled from the merged record
    assert [(r["id"], r["merged_into"]) for r in document["merged_records"]] == [
        (person["merged"].pk, person["kept"].pk)
    ]
    assert [(m["kept"], m["merged"]) for m in document["merges"]] == [
        (person["kept"].pk, person["merged"].pk)
    ]
    assert [(c["purpose"], c["granted"], c["channel"]) for c in document["consents"]] == [
        ("alerts", True, "web")
    ]
    (request,) = document["requests"]
    assert (request["number"], request["description"], request["address"]) == (
        person["request"].number,
        "Trou devant chez moi",
        "12, rue des Érables",
    )
    assert [(e["kind"], e["visibility"], e["message"]) for e in request["timeline"]] == [
        ("created", "public", ""),
        ("internal_note", "internal", "Rappeler Mme Roy"),
        ("public_reply", "public", "Équipe en route"),
    ]
    assert [i["summary"] for i in document["interactions"]] == ["Mme Roy signale un trou"]
    (account,) = document["accounts"]
    assert (account["email"], account["is_active"], account["email_addresses"]) == (
        "lea@exemple.qc.ca",
        True,
        [{"email": "lea@exemple.qc.ca", "verified": True, "primary": True}],
    )
    assert [(a["action"], a["purpose"], a["context"]) for a in document["access_log"]] == [
        ("view", "Appel 311", ""),
        ("export", "Demande d'accès du 3 mars", "admin"),
    ]
    json.dumps(document)  # JSON as it is


def test_an_export_without_purpose_is_refused_and_not_logged(laval, person):
    with schema_context("laval"), pytest.raises(CrmError) as error:
        citizen_export(actor=person["agent"], citizen=person["kept"], purpose=" ", context="admin")

    assert error.value.code == "purpose_required"
    with schema_context("laval"):
        assert list(AccessLog.objects.values_list("action", flat=True)) == ["view"]


def test_the_command_writes_a_private_file_and_logs_the_export(laval, person, tmp_path):
    output = tmp_path / "roy.json"
    out = StringIO()

    call_command(
        "export_citizen",
        "--tenant",
        "laval",
        "--citizen",
        str(person["kept"].pk),
        "--output",
        str(output),
        "--purpose",
        "Demande d'accès",
        "--by",
        "agent@laval.qc.ca",
        stdout=out,
    )

    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["citizen"]["last_name"] == "Roy"
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert f"fiche n° {person['kept'].pk}, 1 requête(s)" in out.getvalue()
    with schema_context("laval"):
        entry = AccessLog.objects.filter(action="export").get()
        assert (entry.actor.email, entry.purpose, entry.context, entry.citizen_id) == (
            "agent@laval.qc.ca",
            "Demande d'accès",
            "commande",
            person["kept"].pk,
        )


def test_the_command_refuses_an_unknown_record_or_staff_member(laval, person, tmp_path):
    common = ["--tenant", "laval", "--output", str(tmp_path / "x.json"), "--purpose", "Test"]

    with pytest.raises(CommandError, match="Aucune fiche de citoyen n° 999999"):
        call_command("export_citizen", *common, "--citizen", "999999")
    with pytest.raises(CommandError, match="Aucun membre actif du personnel"):
        call_command(
            "export_citizen", *common, "--citizen", str(person["kept"].pk), "--by", "x@y.ca"
        )

    assert not (tmp_path / "x.json").exists()
    with schema_context("laval"):
        assert not AccessLog.objects.filter(action="export").exists()


def test_an_administrator_downloads_the_export_from_the_record(laval, person, town_admin):
    page = town_admin.get(admin_url("citizen_export", person["kept"].pk))
    refused = town_admin.post(admin_url("citizen_export", person["kept"].pk), {"reason": "other"})
    download = town_admin.post(
        admin_url("citizen_export", person["kept"].pk), {"reason": "access", "details": "D-12"}
    )

    assert page.status_code == 200
    assert f"fiche n° {person['kept'].pk}" in page.text
    assert "Roy" not in page.text
    assert refused.status_code == 200
    assert 'role="alert"' in refused.text
    assert download.status_code == 200
    assert download["Content-Type"] == "application/json; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="citoyen-{person["kept"].pk}.json"'
    )
    assert json.loads(download.content)["citizen"]["email"] == "lea@exemple.qc.ca"
    with schema_context("laval"):
        entry = AccessLog.objects.filter(action="export").get()
        assert (entry.actor.email, entry.purpose) == (
            "admin@laval.qc.ca",
            "Demande d'accès de la personne à ses renseignements — D-12",
        )


def test_only_municipal_administrators_export(laval, person, staff_client):
    agent = staff_client(
        laval, "agent", email="agent311@laval.qc.ca", permissions=("view_citizen", "change_citizen")
    )
    administrator = staff_client(laval, "administrator", email="directrice@laval.qc.ca")

    refused = agent.post(admin_url("citizen_export", person["kept"].pk), {"reason": "access"})
    allowed = administrator.post(
        admin_url("citizen_export", person["kept"].pk), {"reason": "access"}
    )

    assert refused.status_code == 403
    assert allowed.status_code == 200
    with schema_context("laval"):
        assert list(AccessLog.objects.filter(action="export").values_list("actor__email")) == [
            ("directrice@laval.qc.ca",)
        ]


def test_another_town_cannot_export_this_person(laval, levis, person, tmp_path):
    with pytest.raises(CommandError, match="Aucune fiche de citoyen"):
        call_command(
            "export_citizen",
            "--tenant",
            "levis",
            "--citizen",
            str(person["kept"].pk),
            "--output",
            str(tmp_path / "x.json"),
            "--purpose",
            "Test",
        )

    with schema_context(levis.schema_name):
        assert AccessLog.objects.count() == 0


def test_the_platform_admin_has_no_citizen_to_export(person):
    with schema_context("public"):
        operator = UserFactory(email="op@relais.qc.ca", is_staff=True, is_superuser=True)
    platform_client = signed_in_staff(BASE_DOMAIN, "public", operator)

    response = platform_client.get(admin_url("citizen_export", person["kept"].pk))

    assert response.status_code == 403
