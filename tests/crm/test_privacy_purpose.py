"""Law 25: the admin asks why before it shows a citizen's record, list or search, remembers
the answer for that record (or for lists) for 30 minutes, and logs every page with it."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from crm.admin_privacy import ACCESS_PURPOSES, SESSION_KEY, ViewPurposeForm
from crm.models import AccessLog
from crm.services import citizen_create
from tests.crm.admin_helpers import admin_url, state_purpose

pytestmark = pytest.mark.django_db


@pytest.fixture
def roy(laval):
    with schema_context(laval.schema_name):
        return citizen_create(
            actor=None, first_name="Léa", last_name="Roy", email="lea.roy@exemple.qc.ca"
        )


def _purposes(schema: str = "laval") -> list[tuple]:
    with schema_context(schema):
        return list(
            AccessLog.objects.order_by("pk").values_list("citizen_id", "purpose", "details")
        )


def test_no_purpose_no_record_and_no_log_line(laval, roy, town_admin):
    response = town_admin.get(admin_url("citizen_change", roy.pk))

    assert response.status_code == 200
    assert "Motif de la consultation" in response.text
    assert f"fiche de citoyen n° {roy.pk}" in response.text
    assert "Roy" not in response.text
    assert "lea.roy@exemple.qc.ca" not in response.text
    assert _purposes() == []


def test_the_stated_purpose_opens_the_record_and_is_logged_with_it(laval, roy, town_admin):
    record = admin_url("citizen_change", roy.pk)

    stated = state_purpose(town_admin, f"citizen:{roy.pk}", record, reason="contact")
    page = town_admin.get(record)

    assert (stated.status_code, stated["Location"]) == (302, record)
    assert page.status_code == 200
    assert "lea.roy@exemple.qc.ca" in page.text
    assert _purposes() == [
        (roy.pk, "Réponse à un appel, un courriel ou une visite du citoyen", ""),
    ]


def test_the_purpose_is_remembered_for_that_record_only_and_for_30_minutes(laval, roy, town_admin):
    with schema_context("laval"):
        other = citizen_create(actor=None, last_name="Gagnon")
    record = admin_url("citizen_change", roy.pk)
    state_purpose(town_admin, f"citizen:{roy.pk}", record, details="requête 2026-000123")

    twice = [town_admin.get(record), town_admin.get(record)]
    elsewhere = town_admin.get(admin_url("citizen_change", other.pk))
    session = town_admin.session
    session[SESSION_KEY][f"citizen:{roy.pk}"]["until"] = timezone.now().timestamp() - 1
    session.save()
    expired = town_admin.get(record)

    assert [response.status_code for response in twice] == [200, 200]
    assert "Gagnon" not in elsewhere.text
    assert "Motif de la consultation" in elsewhere.text
    assert "Motif de la consultation" in expired.text
    assert "Roy" not in expired.text
    purpose = "Traitement d'une requête du citoyen — requête 2026-000123"
    assert _purposes() == [(roy.pk, purpose, ""), (roy.pk, purpose, "")]


def test_the_purpose_lasts_30_minutes_from_when_it_was_given(laval, roy, town_admin):
    before = timezone.now().timestamp()

    state_purpose(town_admin, f"citizen:{roy.pk}", admin_url("citizen_change", roy.pk))

    until = town_admin.session[SESSION_KEY][f"citizen:{roy.pk}"]["until"]
    assert before + 30 * 60 <= until <= timezone.now().timestamp() + 30 * 60


def test_another_purpose_must_be_spelled_out(laval, roy, town_admin):
    record = admin_url("citizen_change", roy.pk)

    refused = state_purpose(town_admin, f"citizen:{roy.pk}", record, reason="other")
    accepted = state_purpose(
        town_admin, f"citizen:{roy.pk}", record, reason="other", details="Vérification du greffe"
    )
    town_admin.get(record)

    assert refused.status_code == 200
    assert 'role="alert"' in refused.text
    assert "Précisez le motif." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert accepted.status_code == 302
    assert _purposes() == [(roy.pk, "Vérification du greffe", "")]


def test_lists_and_searches_need_their_own_purpose(laval, roy, town_admin):
    changelist = admin_url("citizen_changelist")
    state_purpose(town_admin, f"citizen:{roy.pk}", admin_url("citizen_change", roy.pk))

    asked = town_admin.get(changelist, {"q": "Roy"})
    state_purpose(town_admin, "citizens", f"{changelist}?q=Roy", reason="duplicates")
    searched = town_admin.get(changelist, {"q": "Roy"})

    assert "Motif de la consultation" in asked.text
    assert "lea.roy" not in asked.text
    assert searched.status_code == 200
    assert "lea.roy@exemple.qc.ca" in searched.text
    assert _purposes() == [
        (None, "Recherche et fusion de doublons", "1 fiche(s), recherche « Roy »")
    ]


def test_an_expired_purpose_while_editing_saves_nothing(laval, roy, town_admin):
    response = town_admin.post(
        admin_url("citizen_change", roy.pk),
        {
            "first_name": "Autre",
            "last_name": "Nom",
            "email": "",
            "phone": "",
            "address": "",
            "preferred_language": "fr",
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "vos modifications n'ont pas été enregistrées" in response.text
    with schema_context("laval"):
        roy.refresh_from_db()
        assert (roy.first_name, roy.last_name) == ("Léa", "Roy")
    assert _purposes() == []


def test_the_purpose_form_goes_back_only_into_the_citizens_admin(laval, roy, town_admin):
    outside = state_purpose(town_admin, "citizens", "https://exemple.com/admin/crm/citizen/")
    elsewhere = state_purpose(town_admin, "citizens", "/admin/auth/")

    assert outside["Location"] == admin_url("citizen_changelist")
    assert elsewhere["Location"] == admin_url("citizen_changelist")


def test_the_purpose_form_is_complete_in_english_and_logs_in_french():
    with translation.override("en"):
        form = ViewPurposeForm(
            {"reason": "update", "details": "", "scope": "citizens", "next": "/admin/"},
            choices=ACCESS_PURPOSES,
        )
        html = str(form)
        valid = form.is_valid()
        purpose = form.purpose()

    assert valid
    assert "Handling a request from the citizen" in html
    assert "Other purpose (specify)" in html
    assert purpose == "Mise à jour ou correction de la fiche"


def test_staff_without_permission_get_no_purpose_form(laval, roy, staff_client):
    agent = staff_client(laval, "agent", email="agent@laval.qc.ca")

    record = agent.get(admin_url("citizen_change", roy.pk))
    stated = state_purpose(agent, "citizens", admin_url("citizen_changelist"))

    assert (record.status_code, stated.status_code) == (403, 403)
    assert _purposes() == []


def test_a_purpose_stated_in_one_town_opens_nothing_in_another(
    laval, levis, roy, town_admin, client_for
):
    state_purpose(town_admin, f"citizen:{roy.pk}", admin_url("citizen_change", roy.pk))
    town_admin.get(admin_url("citizen_change", roy.pk))
    levis_client = client_for(levis)
    levis_client.cookies = town_admin.cookies  # Laval's session names no Lévis account

    response = levis_client.get(admin_url("citizen_change", roy.pk))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert len(_purposes()) == 1
    assert _purposes(levis.schema_name) == []


def test_the_admin_autocomplete_cannot_search_citizens(town_admin, laval):
    """Django's autocomplete searches any admin's records by their search fields (a phone
    number, an e-mail), without the purpose form or the access log."""
    with schema_context(laval.schema_name):
        citizen_create(actor=None, last_name="Tremblay", phone="4505550199")

    response = town_admin.get(
        "/admin/autocomplete/",
        {
            "app_label": "crm",
            "model_name": "servicerequest",
            "field_name": "citizen",
            "term": "450555",
        },
    )

    assert response.status_code == 403
    assert "Tremblay" not in response.content.decode()
    with schema_context(laval.schema_name):
        assert AccessLog.objects.count() == 0
