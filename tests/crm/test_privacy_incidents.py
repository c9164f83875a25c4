"""Law 25: the register of confidentiality incidents, kept per town by its administrators,
validated, and never losing an earlier version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import PrivacyIncident, PrivacyIncidentVersion
from crm.privacy import incident_create, incident_update
from tests.crm.admin_helpers import admin_url
from tests.factories import PrivacyIncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


@pytest.fixture
def officer(laval):
    with schema_context(laval.schema_name):
        return UserFactory(email="vie-privee@laval.qc.ca", is_staff=True, is_superuser=True)


def _incident(**fields):
    return {
        "title": "Réponse envoyée au mauvais citoyen",
        "information_concerned": "Nom et adresse d'un citoyen.",
        "circumstances": "Erreur de destinataire.",
        "occurred_on": TODAY - timedelta(days=10),
        "discovered_on": TODAY - timedelta(days=8),
        "persons_concerned": 1,
    } | fields


def test_each_save_is_a_version_and_earlier_ones_stay(laval, officer):
    with schema_context("laval"):
        incident = incident_create(actor=officer, **_incident())
        editor = UserFactory(email="dg@laval.qc.ca", is_staff=True, is_superuser=True)
        incident = incident_update(
            actor=editor,
            incident=incident,
            expected_version=1,
            risk="serious",
            risk_assessment="Adresse et motif d'une plainte : sensible.",
            persons_concerned=3,
        )
        unchanged = incident_update(actor=editor, incident=incident, persons_concerned=3)

        versions = list(
            PrivacyIncidentVersion.objects.filter(incident=incident)
            .order_by("version")
            .values_list("version", "changed_by__email", "changed_fields")
        )
        first = PrivacyIncidentVersion.objects.get(incident=incident, version=1)
        assert (incident.version, unchanged.version) == (2, 2)
        assert versions == [
            (
                1,
                "vie-privee@laval.qc.ca",
                [
                    "title",
                    "information_concerned",
                    "circumstances",
                    "occurred_on",
                    "discovered_on",
                    "persons_concerned",
                    "persons_concerned_estimated",
                    "risk",
                    "status",
                ],
            ),
            (2, "dg@laval.qc.ca", ["persons_concerned", "risk", "risk_assessment"]),
        ]
        assert (first.snapshot["persons_concerned"], first.snapshot["risk"]) == (1, "to_assess")
        assert first.snapshot["occurred_on"] == _days_ago(10)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"occurred_until": TODAY - timedelta(days=11)}, "occurred_until"),
        ({"discovered_on": TODAY - timedelta(days=11)}, "discovered_on"),
        ({"occurred_on": TODAY + timedelta(days=2)}, "occurred_on"),  # ahead past midnight
        ({"cai_notified_on": TODAY - timedelta(days=9)}, "cai_notified_on"),
        ({"persons_concerned": 0}, "persons_concerned"),
        ({"risk": "not_serious"}, "risk_assessment"),
        ({"status": "closed"}, "risk"),
        (
            {"status": "closed", "risk": "not_serious", "risk_assessment": "Peu sensible."},
            "measures_taken",
        ),
        (
            {
                "status": "closed",
                "risk": "serious",
                "risk_assessment": "Sensible.",
                "measures_taken": "Rappel du courriel.",
            },
            "cai_notified_on",
        ),
        ({"title": ""}, "title"),
    ],
)
def test_an_incident_that_breaks_a_rule_is_refused_and_nothing_is_written(
    laval, officer, fields, field
):
    with schema_context("laval"):
        with pytest.raises(CrmError) as error:
            incident_create(actor=officer, **_incident(**fields))

        assert (error.value.code, error.value.field) == ("invalid_incident", field)
        assert PrivacyIncident.objects.count() == 0
        assert PrivacyIncidentVersion.objects.count() == 0


def test_a_serious_incident_closes_once_the_commission_and_persons_were_notified(laval, officer):
    with schema_context("laval"):
        incident = incident_create(actor=officer, **_incident())

        closed = incident_update(
            actor=officer,
            incident=incident,
            risk="serious",
            risk_assessment="Adresse et motif d'une plainte.",
            cai_notified_on=TODAY - timedelta(days=5),
            notices_details="Avis public sur le site de la Ville (coordonnées inconnues).",
            measures_taken="Courriel rappelé; procédure d'envoi revue.",
            status="closed",
        )

        assert (closed.status, closed.version) == ("closed", 2)


def test_an_editor_cannot_overwrite_a_change_they_have_not_seen(laval, officer):
    with schema_context("laval"):
        incident = incident_create(actor=officer, **_incident())
        incident_update(actor=officer, incident=incident, expected_version=1, persons_concerned=2)

        with pytest.raises(CrmError) as error:
            incident_update(
                actor=officer, incident=incident, expected_version=1, persons_concerned=5
            )

        assert (error.value.code, error.value.status) == ("changed_meanwhile", 409)
        assert PrivacyIncident.objects.get().persons_concerned == 2


def test_the_database_keeps_incidents_and_their_versions(laval, officer):
    with schema_context("laval"):
        incident = PrivacyIncidentFactory(created_by=officer)
        refused = []
        for sql in (
            "DELETE FROM crm_privacyincident",
            "UPDATE crm_privacyincidentversion SET snapshot = '{}'",
            "DELETE FROM crm_privacyincidentversion",
        ):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql)
            except DatabaseError:
                refused.append(sql)

        assert len(refused) == 3
        assert PrivacyIncident.objects.get().pk == incident.pk
        assert PrivacyIncidentVersion.objects.get().snapshot["title"] == incident.title


# --- Admin ---------------------------------------------------------------------------------------


def _form(**fields) -> dict[str, object]:
    return {
        "title": "Dossier laissé au comptoir",
        "status": "open",
        "information_concerned": "Nom, téléphone et adresse de 12 citoyens.",
        "circumstances": "Une liste imprimée a été oubliée au comptoir.",
        "occurred_on": _days_ago(3),
        "occurred_until": "",
        "discovered_on": _days_ago(2),
        "persons_concerned": 12,
        "risk": "to_assess",
        "risk_assessment": "",
        "cai_notified_on": "",
        "persons_notified_on": "",
        "notices_details": "",
        "measures_taken": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    } | fields


def test_administrators_record_and_update_incidents_in_the_admin(laval, town_admin):
    added = town_admin.post(admin_url("privacyincident_add"), _form())
    with schema_context("laval"):
        incident = PrivacyIncident.objects.get()
    page = town_admin.get(admin_url("privacyincident_change", incident.pk))
    changed = town_admin.post(
        admin_url("privacyincident_change", incident.pk),
        _form(
            expected_version=1,
            risk="not_serious",
            risk_assessment="Liste récupérée par un employé.",
        ),
    )
    listed = town_admin.get(admin_url("privacyincident_changelist"))

    assert added.status_code == 302
    assert changed.status_code == 302
    assert page.status_code == 200
    assert "Historique des versions" in page.text
    assert "Dossier laissé au comptoir" in listed.text
    with schema_context("laval"):
        incident.refresh_from_db()
        assert (incident.version, incident.risk, incident.created_by.email) == (
            2,
            "not_serious",
            "admin@laval.qc.ca",
        )
        assert list(incident.versions.order_by("version").values_list("version", flat=True)) == [
            1,
            2,
        ]


def test_the_admin_shows_every_error_and_refuses_a_stale_form(laval, town_admin):
    town_admin.post(admin_url("privacyincident_add"), _form())
    with schema_context("laval"):
        incident = PrivacyIncident.objects.get()
    town_admin.post(
        admin_url("privacyincident_change", incident.pk), _form(expected_version=1, title="A")
    )

    invalid = town_admin.post(
        admin_url("privacyincident_add"),
        _form(discovered_on=_days_ago(4), risk="serious", persons_concerned=0),
    )
    stale = town_admin.post(
        admin_url("privacyincident_change", incident.pk), _form(expected_version=1, title="B")
    )

    assert invalid.status_code == 200
    assert 'role="alert"' in invalid.text
    for message in (
        "avant qu&#x27;il survienne",
        "évaluation du risque",
        "Au moins une personne est concernée",
    ):
        assert message in invalid.text
    assert stale.status_code == 200
    assert "modifié par quelqu&#x27;un d&#x27;autre" in stale.text
    with schema_context("laval"):
        assert PrivacyIncident.objects.get().title == "A"
        assert PrivacyIncidentVersion.objects.count() == 2


def test_only_municipal_administrators_see_the_register_and_nobody_deletes(
    laval, town_admin, staff_client
):
    with schema_context("laval"):
        incident = PrivacyIncidentFactory()
    every_permission = tuple(
        f"{action}_privacyincident" for action in ("view", "add", "change", "delete")
    )
    agent = staff_client(laval, "agent", email="agent@laval.qc.ca", permissions=every_permission)
    administrator = staff_client(laval, "administrator", email="directrice@laval.qc.ca")

    assert agent.get(admin_url("privacyincident_changelist")).status_code == 403
    assert agent.get(admin_url("privacyincident_change", incident.pk)).status_code == 403
    assert administrator.get(admin_url("privacyincident_changelist")).status_code == 200
    assert administrator.get(admin_url("privacyincident_add")).status_code == 200
    assert town_admin.get(admin_url("privacyincident_delete", incident.pk)).status_code == 403
    assert "Registre des incidents" in town_admin.get("/admin/").text
    assert "Registre des incidents" not in agent.get("/admin/").text


def test_another_town_has_its_own_empty_register(laval, levis, officer, staff_client):
    with schema_context("laval"):
        PrivacyIncidentFactory(created_by=officer)
    client = staff_client(levis, "superuser", email="admin@levis.qc.ca")

    listed = client.get(admin_url("privacyincident_changelist"))

    assert listed.status_code == 200
    assert "Réponse envoyée au mauvais citoyen" not in listed.text
    with schema_context(levis.schema_name):
        assert PrivacyIncident.objects.count() == 0
        assert PrivacyIncidentVersion.objects.count() == 0
