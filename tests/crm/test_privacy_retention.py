"""Law 25: after the town's retention period, finished requests lose their personal data and
people with nothing left within it are anonymised, by a task (per town) and a command; twice
is the same as once."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Model
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.models import AccessLog, Citizen, CrmSettings, Interaction, ServiceRequest
from crm.privacy import retention_apply
from crm.privacy.retention import years_before
from crm.services import (
    citizen_create,
    consent_record,
    interaction_record,
)
from crm.tasks import apply_retention
from tests.crm.admin_helpers import admin_url
from tests.factories import ServiceRequestFactory, ServiceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("America/Toronto"))
LONG_AGO = NOW - timedelta(days=6 * 366)  # beyond the default 5 years
RECENTLY = NOW - timedelta(days=365)


def _age(model: type[Model], pk: int, **moments: datetime) -> None:
    """Backdate automatic timestamps (auto_now) that services set to the present."""
    model._default_manager.filter(pk=pk).update(**moments)


@pytest.fixture
def town(laval):
    """Laval with people at every stage of the retention rule."""
    with schema_context(laval.schema_name):
        service_type = ServiceTypeFactory()
        gone = citizen_create(actor=None, last_name="Ancien", email="ancien@exemple.qc.ca")
        old_closed = ServiceRequestFactory(
            service_type=service_type,
            citizen=gone,
            description="Demande de Ancien",
            now=LONG_AGO,
            status="closed",
        )
        interaction_record(
            actor=None, channel="phone", summary="Appel de M. Ancien", citizen=gone, now=LONG_AGO
        )
        active = citizen_create(actor=None, last_name="Actif", email="actif@exemple.qc.ca")
        active_old = ServiceRequestFactory(
            service_type=service_type,
            citizen=active,
            description="Demande de Actif",
            now=LONG_AGO,
            status="closed",
        )
        active_recent = ServiceRequestFactory(
            service_type=service_type,
            citizen=active,
            description="Demande de Actif",
            now=RECENTLY,
            status="closed",
        )
        waiting = citizen_create(actor=None, last_name="Patient")
        old_open = ServiceRequestFactory(
            service_type=service_type,
            citizen=waiting,
            description="Demande de Patient",
            now=LONG_AGO,
        )
        with_account = citizen_create(actor=None, last_name="Inscrit")
        with_account.account = UserFactory(email="inscrit@exemple.qc.ca")
        with_account.save()
        consenting = citizen_create(actor=None, last_name="Consentant")
        consent_record(actor=None, citizen=consenting, purpose="alerts", granted=True)
        for citizen in (gone, active, waiting, with_account, consenting):
            _age(Citizen, citizen.pk, updated_at=LONG_AGO)
        _age(Citizen, consenting.pk, updated_at=LONG_AGO)
    return {
        "gone": gone,
        "active": active,
        "waiting": waiting,
        "with_account": with_account,
        "consenting": consenting,
        "old_closed": old_closed,
        "active_old": active_old,
        "active_recent": active_recent,
        "old_open": old_open,
    }


def _state(schema: str = "laval") -> dict[str, list[tuple]]:
    with schema_context(schema):
        return {
            "requests": list(
                ServiceRequest.objects.order_by("pk").values_list(
                    "pk", "citizen_id", "description", "address", "tracking_token", "anonymised_at"
                )
            ),
            "citizens": list(
                Citizen.objects.order_by("pk").values_list("pk", "last_name", "anonymised_at")
            ),
            "interactions": list(
                Interaction.objects.order_by("pk").values_list("pk", "summary", "citizen_id")
            ),
            "log": list(AccessLog.objects.order_by("pk").values_list("citizen_id", "purpose")),
        }


def test_the_default_is_five_years_and_the_town_sets_its_own_in_the_admin(laval, town_admin):
    with schema_context("laval"):
        settings = CrmSettings.objects.get()
    form = {
        "duplicate_radius_m": 50,
        "duplicate_window_days": 14,
        "close_information_at_intake": "on",
        "sla_warning_ratio": 80,
    }

    page = town_admin.get(admin_url("crmsettings_change", settings.pk))
    refused = town_admin.post(
        admin_url("crmsettings_change", settings.pk), form | {"retention_years": 0}
    )
    saved = town_admin.post(
        admin_url("crmsettings_change", settings.pk), form | {"retention_years": 7}
    )

    assert settings.retention_years == 5
    assert "Durée de conservation des renseignements personnels" in page.text
    assert refused.status_code == 200
    assert saved.status_code == 302
    with schema_context("laval"):
        assert CrmSettings.objects.get().retention_years == 7


def test_finished_requests_past_the_period_lose_their_personal_data(laval, town):
    with schema_context("laval"):
        result = retention_apply(now=NOW)

        old = ServiceRequest.objects.get(pk=town["old_closed"].pk)
        kept = {
            name: ServiceRequest.objects.get(pk=town[name].pk)
            for name in ("active_recent", "old_open")
        }
        assert result.cutoff == years_before(NOW, 5)
        assert (old.citizen_id, old.description, old.address) == (None, "[anonymisé]", "")
        assert (old.status, old.number, old.closed_at) == (
            "closed",
            town["old_closed"].number,
            town["old_closed"].closed_at,
        )
        assert old.tracking_token != town["old_closed"].tracking_token
        assert ServiceRequest.objects.get(pk=town["active_old"].pk).citizen_id is None
        for name, service_request in kept.items():
            assert service_request.description == town[name].description
            assert service_request.citizen_id == town[name].citizen_id
            assert service_request.anonymised_at is None


def test_people_with_nothing_left_in_the_period_are_anonymised_the_others_kept(laval, town):
    with schema_context("laval"):
        result = retention_apply(now=NOW)

        anonymised = set(
            Citizen.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)
        )
        entry = AccessLog.objects.get()
        interaction = Interaction.objects.get()
        assert anonymised == {town["gone"].pk}
        assert (result.requests, result.interactions, result.citizens) == (2, 1, 1)
        assert (entry.citizen_id, entry.action, entry.actor, entry.context) == (
            town["gone"].pk,
            "erase",
            None,
            "conservation",
        )
        assert entry.purpose == "Durée de conservation écoulée (5 ans)"
        assert (interaction.summary, interaction.citizen_id) == ("[anonymisé]", None)
        assert Citizen.objects.get(pk=town["active"].pk).last_name == "Actif"


def test_running_it_again_changes_nothing(laval, town):
    with schema_context("laval"):
        retention_apply(now=NOW)
    once = _state()

    with schema_context("laval"):
        again = retention_apply(now=NOW)

    assert (again.requests, again.interactions, again.citizens) == (0, 0, 0)
    assert _state() == once


def test_a_longer_period_keeps_more(laval, town):
    with schema_context("laval"):
        CrmSettings.objects.update(retention_years=10)
        result = retention_apply(now=NOW)

    assert (result.requests, result.interactions, result.citizens) == (0, 0, 0)


def test_the_task_runs_in_the_town_it_is_given_and_leaves_the_other_alone(laval, levis, town):
    with schema_context(levis.schema_name):
        service_type = ServiceTypeFactory()
        levis_citizen = citizen_create(actor=None, last_name="Lévisien")
        ServiceRequestFactory(
            service_type=service_type,
            citizen=levis_citizen,
            description="Demande de Lévisien",
            now=LONG_AGO,
            status="closed",
        )
        _age(Citizen, levis_citizen.pk, updated_at=LONG_AGO)
    levis_before = _state(levis.schema_name)

    result = apply_retention.enqueue(schema_name=laval.schema_name)

    assert result.return_value["citizens"] == 1
    assert result.return_value["requests"] == 2
    assert _state(levis.schema_name) == levis_before


def test_the_command_runs_or_enqueues_for_every_town(laval, levis, town):
    ran, queued = StringIO(), StringIO()

    call_command("apply_retention", "--tenant", "laval", stdout=ran)
    call_command("apply_retention", "--enqueue", stdout=queued)

    cutoff = years_before(timezone.now(), 5).date()
    assert "laval : 2 requête(s) et 1 interaction(s) épurées, 1 fiche(s) anonymisée(s)" in (
        ran.getvalue()
    )
    assert f"(terminées avant le {cutoff:%Y-%m-%d})" in ran.getvalue()
    assert "laval : tâche mise en file" in queued.getvalue()
    assert "levis : tâche mise en file" in queued.getvalue()


def test_a_leap_day_goes_back_to_the_28th():
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=ZoneInfo("America/Toronto"))

    assert years_before(leap, 5) == datetime(2023, 2, 28, 12, 0, tzinfo=ZoneInfo("America/Toronto"))
