"""Law 25's trail of who changed what: a citizen's record (which fields, never their values) and
an API key's revocation. Written in the change's own transaction; another town sees none of it."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import ApiKey, Citizen, CitizenChange
from crm.privacy import citizen_export
from crm.services import api_key_create, api_key_revoke, citizen_create, citizen_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _trail(citizen: Citizen) -> list[tuple[bool, list[str], str | None]]:
    return [
        (change.created, change.fields, change.actor.email if change.actor else None)
        for change in CitizenChange.objects.filter(citizen=citizen).order_by("changed_at", "pk")
    ]


def test_a_creation_and_each_change_name_who_and_which_fields_never_the_values(in_laval):
    agent = UserFactory(is_staff=True, email="agent@laval.localhost")
    citizen = citizen_create(actor=agent, first_name="Léa", email="lea@exemple.qc.ca")

    citizen_update(actor=None, citizen=citizen, phone="450 555-0101", first_name="Léa")
    citizen_update(actor=agent, citizen=citizen, email="LEA@exemple.qc.ca")  # same once normalized

    assert _trail(citizen) == [
        (True, ["email", "first_name"], "agent@laval.localhost"),
        (False, ["phone"], None),
    ]
    stored = CitizenChange.objects.filter(citizen=citizen).values_list("fields", flat=True)
    assert "lea@exemple.qc.ca" not in str(list(stored))
    assert "4505550101" not in str(list(stored))


def test_a_refused_change_leaves_no_trail(in_laval):
    citizen = citizen_create(actor=None, last_name="Roy")

    with pytest.raises(CrmError):
        citizen_update(actor=None, citizen=citizen, email="pas une adresse")

    assert _trail(citizen) == [(True, ["last_name"], None)]
    assert Citizen.objects.get(pk=citizen.pk).email == ""


def test_the_trail_is_written_in_the_changes_transaction(in_laval):
    citizen = citizen_create(actor=None, last_name="Roy")

    def change_then_fail() -> None:
        with transaction.atomic():
            citizen_update(actor=None, citizen=citizen, first_name="Marc")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert _trail(citizen) == [(True, ["last_name"], None)]


def test_the_export_lists_the_trail(in_laval):
    officer = UserFactory(is_staff=True, email="dpo@laval.localhost")
    citizen = citizen_create(actor=None, last_name="Roy")
    citizen_update(actor=officer, citizen=citizen, first_name="Marc")

    document = citizen_export(
        actor=officer, citizen=citizen, purpose="Demande d'accès", context="test"
    )

    assert [(c["created"], c["fields"], c["actor"]) for c in document["changes"]] == [
        (True, ["last_name"], None),
        (False, ["first_name"], "dpo@laval.localhost"),
    ]


def test_another_town_sees_none_of_the_trail(laval, levis):
    with schema_context(laval.schema_name):
        citizen_create(actor=None, last_name="Roy")
        assert CitizenChange.objects.count() == 1
    with schema_context(levis.schema_name):
        assert CitizenChange.objects.count() == 0


def test_a_revocation_records_who_revoked_and_the_first_one_stands(in_laval):
    admin = UserFactory(is_staff=True, email="admin@laval.localhost")
    other = UserFactory(is_staff=True, email="autre@laval.localhost")
    api_key, _secret = api_key_create(actor=admin, name="Application", scope="write")

    revoked = api_key_revoke(actor=admin, api_key=api_key)
    again = api_key_revoke(actor=other, api_key=api_key)

    stored = ApiKey.objects.get(pk=api_key.pk)
    assert (stored.revoked_by, stored.revoked_at) == (admin, revoked.revoked_at)
    assert again.revoked_by == admin
    assert not stored.is_active
