from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import AccessLog, Citizen, CitizenMerge, Consent, Interaction, ServiceRequest
from crm.selectors import citizen_duplicates
from crm.services import (
    access_log_record,
    citizen_create,
    citizen_merge,
    citizen_update,
    consent_record,
    interaction_record,
)
from tests.factories import ServiceRequestFactory, ServiceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contact_data_is_normalized(in_laval):
    citizen = citizen_create(
        actor=None,
        first_name="Élise",
        last_name="Gagnon",
        email=" Elise.Gagnon@Exemple.QC.ca ",
        phone="+1 (450) 555-0101",
        preferred_language="en",
    )

    assert (citizen.email, citizen.phone, citizen.preferred_language) == (
        "elise.gagnon@exemple.qc.ca",
        "4505550101",
        "en",
    )
    assert (citizen.notify_by_email, citizen.notify_by_sms) == (True, False)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"phone": "555-01"}, "invalid_phone", "phone"),
        ({"email": "pas-un-courriel"}, "invalid_citizen", "email"),
        ({"preferred_language": "es", "email": "a@b.ca"}, "invalid_citizen", "preferred_language"),
        ({}, "empty_citizen", "email"),
    ],
)
def test_invalid_citizens_are_refused_and_nothing_is_written(in_laval, fields, code, field):
    before = Citizen.objects.count()
    with pytest.raises(CrmError) as error:
        citizen_create(actor=None, **fields)
    assert (error.value.code, error.value.field) == (code, field)
    assert Citizen.objects.count() == before


def test_same_email_or_phone_are_duplicates(in_laval):
    first = citizen_create(
        actor=None, last_name="Roy", email="roy@exemple.qc.ca", phone="4505550000"
    )
    same_email = citizen_create(actor=None, last_name="Roy", email="ROY@exemple.qc.ca")
    same_phone = citizen_create(actor=None, last_name="Roy", phone="450 555 0000")
    other = citizen_create(actor=None, last_name="Roy", email="autre@exemple.qc.ca")

    assert set(citizen_duplicates(citizen=first)) == {same_email, same_phone}
    assert list(citizen_duplicates(citizen=other)) == []


def test_merge_moves_history_fills_gaps_and_leaves_a_trace(in_laval):
    agent = UserFactory()
    kept = citizen_create(actor=None, first_name="Luc", last_name="Roy", email="roy@exemple.qc.ca")
    merged = citizen_create(
        actor=None, last_name="Roy", email="roy@exemple.qc.ca", phone="4505550000"
    )
    request = ServiceRequestFactory(
        service_type=ServiceTypeFactory(location_required=False), channel="phone", citizen=merged
    )
    interaction_record(actor=agent, channel="phone", summary="Appel", citizen=merged)
    consent_record(actor=None, citizen=merged, purpose="alerts", granted=True)

    trace = citizen_merge(actor=agent, kept=kept, merged=merged)

    kept.refresh_from_db()
    merged.refresh_from_db()
    assert ServiceRequest.objects.get(pk=request.pk).citizen == kept
    assert Interaction.objects.get().citizen == kept
    assert Consent.objects.get().citizen == kept
    assert kept.phone == "4505550000"  # filled from the merged record
    assert kept.first_name == "Luc"  # kept's own data wins
    assert merged.merged_into == kept
    assert (trace.kept, trace.merged, trace.actor) == (kept, merged, agent)
    assert trace.moved == {"requests": 1, "interactions": 1, "consents": 1, "filled": ["phone"]}
    assert list(citizen_duplicates(citizen=kept)) == []
    with pytest.raises(CrmError):
        citizen_merge(actor=agent, kept=kept, merged=merged)
    assert CitizenMerge.objects.count() == 1


def test_consents_keep_their_history(in_laval):
    citizen = citizen_create(actor=None, email="a@exemple.qc.ca")
    consent_record(actor=None, citizen=citizen, purpose="surveys", granted=True, channel="web")
    consent_record(actor=None, citizen=citizen, purpose="surveys", granted=False, channel="phone")

    history = list(citizen.consents.values_list("purpose", "granted", "channel"))

    assert history == [("surveys", False, "phone"), ("surveys", True, "web")]
    with pytest.raises(CrmError):
        consent_record(actor=None, citizen=citizen, purpose="publicite", granted=True)


def test_updates_are_validated(in_laval):
    citizen = citizen_create(actor=None, email="a@exemple.qc.ca")
    citizen = citizen_update(actor=None, citizen=citizen, notify_by_sms=True, phone="4505551111")
    assert (citizen.notify_by_sms, citizen.phone) == (True, "4505551111")
    with pytest.raises(CrmError):
        citizen_update(actor=None, citizen=citizen, phone="123")
    with pytest.raises(CrmError):
        citizen_update(actor=None, citizen=citizen, merged_into=None)
    citizen.refresh_from_db()
    assert citizen.phone == "4505551111"


def test_every_access_is_logged_with_its_purpose(in_laval):
    agent = UserFactory()
    citizen = citizen_create(actor=None, email="a@exemple.qc.ca")

    with pytest.raises(CrmError) as error:
        access_log_record(actor=agent, citizen=citizen, action="view", purpose=" ")
    entry = access_log_record(
        actor=agent,
        citizen=citizen,
        action="export",
        purpose="Demande d'accès du citoyen",
        context="admin",
    )

    assert error.value.field == "purpose"
    assert (entry.actor, entry.action, entry.purpose) == (
        agent,
        "export",
        "Demande d'accès du citoyen",
    )
    assert AccessLog.objects.count() == 1


def test_the_access_log_cannot_be_edited_or_deleted(in_laval):
    from django.db import DatabaseError, connection, transaction

    entry = access_log_record(
        actor=UserFactory(),
        citizen=citizen_create(actor=None, email="a@exemple.qc.ca"),
        action="view",
        purpose="Vérification",
    )
    for statement in ("UPDATE crm_accesslog SET purpose = 'x'", "DELETE FROM crm_accesslog"):
        with (
            pytest.raises(DatabaseError, match="crm_accesslog is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    entry.refresh_from_db()
    assert entry.purpose == "Vérification"


def test_levis_sees_no_citizen_of_laval(laval, levis):
    with schema_context(laval.schema_name):
        citizen_create(actor=None, email="secret@exemple.qc.ca")
    with schema_context(levis.schema_name):
        assert Citizen.objects.count() == 0
        assert not Citizen.objects.filter(email="secret@exemple.qc.ca").exists()
