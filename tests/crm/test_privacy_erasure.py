"""Law 25: a person anonymised for good (service, command, admin), their requests kept for
statistics without identity, the timeline append-only except for that narrow scrub."""

from __future__ import annotations

import os
from decimal import Decimal
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from crm.errors import CrmError
from crm.models import (
    AccessLog,
    Citizen,
    Interaction,
    RequestAttachment,
    RequestEvent,
    ServiceRequest,
)
from crm.privacy import citizen_anonymise
from crm.services import (
    citizen_create,
    citizen_merge,
    citizen_update,
    interaction_record,
    request_add_note,
    request_attach,
    request_cancel,
    request_change_status,
    request_create,
)
from tenants.accounts.models import User
from tests.crm.admin_helpers import admin_url
from tests.crm.desk.request_files import PNG, upload
from tests.factories import (
    TEST_PASSWORD,
    CitizenFactory,
    ServiceAttributeFactory,
    ServiceRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STATISTICS = (
    "number",
    "service_type_id",
    "kind",
    "status",
    "priority",
    "department_id",
    "sector_id",
    "channel",
    "created_at",
    "resolved_at",
    "closed_at",
    "sla_due_at",
    "sla_warn_at",
    "sla_breached_at",
    "first_contact_resolution",
)


@pytest.fixture
def person(laval):
    """Léa Roy (an account, a merged second record), a closed request with free-text answers,
    notes and an app's device id, a cancelled one, and an interaction."""
    with schema_context(laval.schema_name):
        agent = UserFactory(email="agent@laval.qc.ca", is_staff=True)
        account = UserFactory(email="lea@exemple.qc.ca", first_name="Léa", last_name="Roy")
        kept = citizen_create(
            actor=None,
            first_name="Léa",
            last_name="Roy",
            email="lea@exemple.qc.ca",
            phone="4505550101",
            address="12, rue des Érables",
        )
        kept.account = account
        kept.save()
        merged = citizen_create(actor=None, last_name="Roy", phone="4505550199")
        citizen_merge(actor=agent, kept=kept, merged=merged)
        question = ServiceAttributeFactory(code="precisions", datatype="text")
        ServiceAttributeFactory(
            service_type=question.service_type,
            code="taille",
            datatype="singlevaluelist",
            choices=["petit", "grand"],
        )
        closed = ServiceRequestFactory(
            actor=agent,
            service_type=question.service_type,
            channel="app",
            description="Trou devant chez moi, je suis Léa",
            address="12, rue des Érables",
            latitude="45.570123",
            longitude="-73.690456",
            attributes={"precisions": "Près de ma boîte aux lettres", "taille": "grand"},
            media_url="https://exemple.qc.ca/photo.jpg",
            citizen=kept,
            intake_data={"device_id": "iphone-de-lea"},
        )
        request_add_note(actor=agent, service_request=closed, message="Rappeler Léa", public=False)
        request_change_status(actor=agent, service_request=closed, status="resolved")
        request_change_status(
            actor=agent, service_request=closed, status="closed", message="Merci Mme Roy"
        )
        cancelled = ServiceRequestFactory(
            actor=agent,
            service_type=question.service_type,
            channel="phone",
            address="12, rue des Érables",
            citizen=kept,
        )
        request_cancel(actor=agent, service_request=cancelled, reason="Mme Roy a déménagé")
        interaction_record(
            actor=agent,
            channel="phone",
            summary="Appel de Léa Roy au sujet du trou",
            citizen=kept,
            service_request=closed,
        )
        LogEntry.objects.log_actions(
            agent.pk, [kept], CHANGE, change_message="Modifié", single_object=True
        )
    return {
        "kept": kept,
        "merged": merged,
        "closed": closed,
        "cancelled": cancelled,
        "account": account,
    }


def _statistics(schema: str = "laval") -> list[tuple]:
    with schema_context(schema):
        return list(ServiceRequest.objects.order_by("pk").values_list(*STATISTICS))


def test_the_person_is_anonymised_and_the_requests_kept_for_statistics(laval, person):
    before = _statistics()
    with schema_context("laval"):
        events_before = RequestEvent.objects.count()
        result = citizen_anonymise(
            actor=None, citizen=person["merged"], reason="Demande d'effacement", context="test"
        )

        kept, merged = (Citizen.objects.get(pk=person[name].pk) for name in ("kept", "merged"))
        closed = ServiceRequest.objects.get(pk=person["closed"].pk)
        cancelled = ServiceRequest.objects.get(pk=person["cancelled"].pk)
        account = User.objects.get(pk=person["account"].pk)
        messages = list(
            RequestEvent.objects.filter(request=closed)
            .order_by("pk")
            .values_list("kind", "message", "data")
        )
        entry = AccessLog.objects.get()
        history = LogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(Citizen), object_id=str(kept.pk)
        )

        assert (result.records, result.requests, result.interactions, result.account) == (
            2,
            2,
            1,
            "deactivated",
        )
        for record in (kept, merged):
            assert (record.first_name, record.last_name, record.email, record.phone) == (
                "",
                "",
                "",
                "",
            )
            assert record.address == ""
            assert record.anonymised_at is not None
            assert not (record.notify_by_email)
            assert not (record.notify_by_sms)
            assert not (record.notify_by_phone)
        assert str(kept) == f"Fiche anonymisée n° {kept.pk}"
        assert kept.account is None
        assert (account.email, account.first_name, account.is_active) == (
            f"anonyme-{account.pk}@anonyme.invalid",
            "",
            False,
        )
        assert not account.has_usable_password()
        assert not EmailAddress.objects.filter(user=account).exists()
        # Requests stay, pointing to the anonymised record, without identity.
        assert (closed.citizen_id, cancelled.citizen_id) == (kept.pk, kept.pk)
        assert (closed.description, closed.address, closed.media_url) == ("[anonymisé]", "", "")
        assert (closed.latitude, closed.longitude) == (Decimal("45.570000"), Decimal("-73.690000"))
        assert closed.attributes == {"taille": "grand"}
        assert closed.tracking_token != person["closed"].tracking_token
        assert len(closed.tracking_token) == 32
        assert closed.anonymised_at is not None
        assert cancelled.cancellation_reason == "[anonymisé]"
        assert messages == [
            (
                "created",
                "",
                {"channel": "app", "department": closed.department.code, "anonymised": True},
            ),
            ("internal_note", "[anonymisé]", {"anonymised": True}),
            ("status_changed", "", {}),
            ("status_changed", "[anonymisé]", {"anonymised": True}),
        ]
        assert RequestEvent.objects.count() == events_before
        assert Interaction.objects.get().summary == "[anonymisé]"
        assert history.object_repr == f"#{kept.pk}"
        assert (entry.action, entry.citizen_id, entry.purpose, entry.actor) == (
            "erase",
            kept.pk,
            "Demande d'effacement",
            None,
        )
    assert _statistics() == before


def test_a_second_anonymisation_is_refused_and_changes_nothing(laval, person):
    with schema_context("laval"):
        citizen_anonymise(actor=None, citizen=person["kept"], reason="Demande", context="test")
        tokens = list(ServiceRequest.objects.values_list("tracking_token", flat=True))

        with pytest.raises(CrmError) as error:
            citizen_anonymise(actor=None, citizen=person["kept"], reason="Encore", context="test")

        assert (error.value.code, error.value.status) == ("already_anonymised", 409)
        assert list(ServiceRequest.objects.values_list("tracking_token", flat=True)) == tokens
        assert AccessLog.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "code"), [("", "purpose_required"), ("Demande", "open_requests")]
)
def test_refusals_change_nothing(laval, person, reason, code):
    with schema_context("laval"):
        ServiceRequestFactory(
            service_type=person["closed"].service_type,
            channel="phone",
            address="1, rue A",
            citizen=person["kept"],
        )
        with pytest.raises(CrmError) as error:
            citizen_anonymise(actor=None, citizen=person["kept"], reason=reason, context="test")

        assert error.value.code == code
        kept = Citizen.objects.get(pk=person["kept"].pk)
        assert (kept.last_name, kept.anonymised_at) == ("Roy", None)
        assert ServiceRequest.objects.get(pk=person["closed"].pk).description.startswith("Trou")
        assert AccessLog.objects.count() == 0


def test_nothing_is_attached_to_an_anonymised_record_again(laval, person):
    with schema_context("laval"):
        citizen_anonymise(actor=None, citizen=person["kept"], reason="Demande", context="test")
        kept, merged = (Citizen.objects.get(pk=person[name].pk) for name in ("kept", "merged"))
        other = citizen_create(actor=None, last_name="Gagnon")
        attempts = [
            lambda: citizen_update(actor=None, citizen=kept, last_name="Roy"),
            lambda: citizen_merge(actor=None, kept=other, merged=kept),
            lambda: request_create(
                actor=None,
                service_type=person["closed"].service_type,
                channel="phone",
                address="1, rue A",
                citizen=merged,  # stands for the record it was merged into
            ),
            lambda: interaction_record(actor=None, channel="phone", summary="x", citizen=kept),
        ]
        for attempt in attempts:
            with pytest.raises(CrmError) as error:
                attempt()
            assert error.value.code == "citizen_anonymised"
        assert ServiceRequest.objects.count() == 2


def test_the_timeline_stays_append_only_outside_the_anonymisation(laval, person):
    with schema_context("laval"):
        event_id = RequestEvent.objects.filter(kind="internal_note").get().pk
        refused = []
        statements = [
            (
                "UPDATE crm_requestevent SET message = '[anonymisé]', "
                "data = data || '{\"anonymised\": true}' WHERE id = %s",
                False,
            ),
            # Declared, but changing more than the text is still refused.
            (
                "UPDATE crm_requestevent SET kind = 'public_reply', "
                "data = data || '{\"anonymised\": true}' WHERE id = %s",
                True,
            ),
            (
                "UPDATE crm_requestevent SET message = 'Autre texte', "
                "data = data || '{\"anonymised\": true}' WHERE id = %s",
                True,
            ),
            ("UPDATE crm_requestevent SET message = '[anonymisé]' WHERE id = %s", True),
            ("DELETE FROM crm_requestevent WHERE id = %s", True),
        ]
        for sql, declared in statements:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    if declared:
                        cursor.execute("SELECT set_config('relais.anonymising', 'on', true)")
                    cursor.execute(sql, [event_id])
            except DatabaseError:
                refused.append(True)
            else:
                refused.append(False)

        assert refused == [True, True, True, True, True]
        assert RequestEvent.objects.get(pk=event_id).message == "Rappeler Léa"


def test_a_staff_account_linked_to_the_person_is_only_detached(laval):
    with schema_context("laval"):
        employee = UserFactory(email="employe@laval.qc.ca", is_staff=True)
        citizen = CitizenFactory(account=employee)

        result = citizen_anonymise(actor=None, citizen=citizen, reason="Demande", context="test")

        employee.refresh_from_db()
        assert result.account == "detached"
        assert (employee.email, employee.is_active) == ("employe@laval.qc.ca", True)
        assert Citizen.objects.get(pk=citizen.pk).account_id is None


def test_the_command_asks_for_confirmation_unless_told_not_to(laval, person, monkeypatch):
    common = ["--tenant", "laval", "--citizen", str(person["kept"].pk), "--reason", "Demande"]
    monkeypatch.setattr("builtins.input", lambda prompt: "non")

    with pytest.raises(CommandError, match="abandonnée"):
        call_command("anonymise_citizen", *common)
    out = StringIO()
    call_command("anonymise_citizen", *common, "--noinput", "--by", "agent@laval.qc.ca", stdout=out)

    assert f"fiche n° {person['kept'].pk} anonymisée (2 fiche(s), 2 requête(s)" in out.getvalue()
    with schema_context("laval"):
        entry = AccessLog.objects.get()
        assert (entry.actor.email, entry.context, entry.action) == (
            "agent@laval.qc.ca",
            "commande",
            "erase",
        )


def test_an_administrator_anonymises_from_the_record_after_confirming(laval, person, town_admin):
    url = admin_url("citizen_anonymise", person["kept"].pk)

    page = town_admin.get(url)
    unconfirmed = town_admin.post(url, {"reason": "erasure"})
    done = town_admin.post(url, {"reason": "erasure", "confirm": "on"})
    record = town_admin.get(admin_url("citizen_change", person["kept"].pk))

    assert page.status_code == 200
    assert "2 requêtes" in page.text
    assert "Roy" not in page.text
    assert unconfirmed.status_code == 200
    assert 'role="alert"' in unconfirmed.text
    assert "Cochez cette case" in unconfirmed.text
    assert done.status_code == 302
    assert done["Location"] == admin_url("citizen_change", person["kept"].pk)
    assert record.status_code == 200
    assert f"Fiche anonymisée n° {person['kept'].pk}" in record.text
    assert "Anonymiser</a>" not in record.text
    with schema_context("laval"):
        assert Citizen.objects.get(pk=person["kept"].pk).anonymised_at is not None
        assert list(AccessLog.objects.order_by("pk").values_list("action", "purpose")) == [
            ("erase", "Demande d'effacement de la personne"),
            ("view", "Demande d'effacement de la personne"),
        ]


def test_agents_cannot_anonymise_and_the_tools_are_not_offered_to_them(laval, person, staff_client):
    agent = staff_client(
        laval, "agent", email="agent311@laval.qc.ca", permissions=("view_citizen",)
    )

    refused = agent.post(
        admin_url("citizen_anonymise", person["kept"].pk), {"reason": "erasure", "confirm": "on"}
    )

    assert refused.status_code == 403
    with schema_context("laval"):
        assert Citizen.objects.get(pk=person["kept"].pk).anonymised_at is None


def test_the_same_person_in_another_town_is_untouched(laval, levis, person):
    with schema_context(levis.schema_name):
        twin = citizen_create(
            actor=None, first_name="Léa", last_name="Roy", email="lea@exemple.qc.ca"
        )
        account = UserFactory(email="lea@exemple.qc.ca")
    with schema_context("laval"):
        citizen_anonymise(actor=None, citizen=person["kept"], reason="Demande", context="test")

    with schema_context(levis.schema_name):
        twin.refresh_from_db()
        account.refresh_from_db()
        assert (twin.last_name, twin.email, twin.anonymised_at) == (
            "Roy",
            "lea@exemple.qc.ca",
            None,
        )
        assert account.is_active
        assert account.check_password(TEST_PASSWORD)
        assert AccessLog.objects.count() == 0


def test_files_attached_to_the_persons_requests_are_deleted(
    laval, person, django_capture_on_commit_callbacks
):
    with schema_context("laval"):
        closed = ServiceRequest.objects.get(pk=person["closed"].pk)
        other = ServiceRequestFactory(actor=None, service_type=closed.service_type)
        attached = request_attach(
            actor=None, service_request=closed, upload=upload("photo.png", PNG)
        )
        kept = request_attach(actor=None, service_request=other, upload=upload("photo.png", PNG))
        path, kept_path = attached.file.path, kept.file.path

        with django_capture_on_commit_callbacks(execute=True):
            citizen_anonymise(
                actor=None, citizen=person["kept"], reason="Demande d'effacement", context="test"
            )

        assert list(RequestAttachment.objects.values_list("pk", flat=True)) == [kept.pk]
        assert not os.path.exists(path)
        assert os.path.exists(kept_path)
