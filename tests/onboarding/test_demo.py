from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from crm.models import Citizen, Department, FaqArticle, Interaction, ServiceRequest, ServiceType
from onboarding.demo import DEMO_PASSWORD, TOWNS, build_demo
from onboarding.models import AuditEntry, OnboardingProject
from tenants.accounts.models import User
from tenants.models import Domain, Municipality, Region

pytestmark = pytest.mark.django_db


def _state() -> dict[str, object]:
    state: dict[str, object] = {
        "towns": sorted(Municipality.objects.values_list("slug", "kind", "status", "host__slug")),
        "domains": sorted(Domain.objects.values_list("domain", flat=True)),
    }
    for schema in ("public", "laval", "levis"):
        with schema_context(schema):
            state[schema] = sorted(User.objects.values_list("email", "is_superuser"))
    with schema_context("laval"):
        state["crm"] = [
            model.objects.count()
            for model in (Department, ServiceType, FaqArticle, Citizen, ServiceRequest, Interaction)
        ]
    return state


def test_demo_builds_the_platform_laval_and_levis_and_is_idempotent():
    accounts = build_demo(port=8000)
    first = _state()
    build_demo(port=8000)

    assert _state() == first
    assert [(a.where, a.url, a.email) for a in accounts] == [
        ("Plateforme", "http://localhost:8000", "operateur@localhost"),
        ("Ville de Laval", "http://laval.localhost:8000", "admin@laval.localhost"),
        ("Ville de Lévis", "http://levis.localhost:8000", "admin@levis.localhost"),
    ]
    assert ("levis", "partner", "live", "laval") in first["towns"]
    assert ("laval", "host", "live", None) in first["towns"]
    assert ("admin@laval.localhost", True) in first["laval"]
    assert "admin@laval.localhost" not in [email for email, _ in first["levis"]]
    with schema_context("laval"):
        host_types = dict(ServiceType.objects.values_list("uuid", "code"))
    with schema_context("levis"):
        assert User.objects.get(email="admin@levis.localhost").check_password(DEMO_PASSWORD)
        # The partner has a copy of the host's catalog and bank, with provenance, and nothing
        # of its requests or citizens.
        copied = dict(ServiceType.objects.values_list("source_uuid", "code"))
        assert copied == host_types
        assert FaqArticle.objects.filter(source_uuid__isnull=False).count() >= 120
        assert ServiceRequest.objects.count() == 0
        assert Citizen.objects.count() == 0
    with schema_context("laval"):
        statuses = set(ServiceRequest.objects.values_list("status", flat=True))
        assert first["crm"] == _state()["crm"]  # the CRM demo is idempotent too
        assert Department.objects.count() == 10
        assert ServiceType.objects.count() >= 40
        assert ServiceType.objects.filter(attributes__isnull=False).distinct().count() >= 20
        assert FaqArticle.objects.count() >= 120
        assert FaqArticle.objects.filter(status="published").exclude(question_en="").count() == (
            FaqArticle.objects.count()
        )
        assert Citizen.objects.count() >= 30
        assert ServiceRequest.objects.count() >= 300
        assert statuses == {
            "new",
            "assigned",
            "in_progress",
            "on_hold",
            "resolved",
            "closed",
            "cancelled",
            "duplicate",
        }


def test_demo_creates_missing_towns_through_the_provisioning_service():
    # Laval and Lévis exist in the test database: build two other towns the same way (the
    # host with its demo catalog, which the partner's go-live checklist requires).
    towns = tuple(
        replace(
            town,
            slug=f"demo-{town.slug}",
            name=f"{town.name} (démo)",
            with_crm_demo=town.kind == Municipality.Kind.HOST,
        )
        for town in TOWNS
    )

    build_demo(port=8000, towns=towns)

    host, partner = (Municipality.objects.get(slug=f"demo-{t.slug}") for t in TOWNS)
    assert (host.kind, host.host, host.region, host.status) == ("host", None, Region.LAVAL, "live")
    assert (partner.kind, partner.host, partner.schema_name) == ("partner", host, "demo_levis")
    assert Domain.objects.get(tenant=partner).domain == "demo-levis.localhost"
    with schema_context("demo_levis"):
        assert User.objects.get().email == "admin@demo-levis.localhost"
        assert ServiceType.objects.count() == 44
    # Through the console's wizard: the project, its milestones and its audit are there.
    project = OnboardingProject.objects.get(municipality=partner)
    assert (project.status, partner.status) == ("live", "live")
    assert [m.kind for m in project.milestones.all()] == [
        "started",
        "provisioned",
        "catalog_copied",
        "staff_invited",
        "went_live",
    ]
    assert AuditEntry.objects.filter(
        target="demo-levis", actor_email="operateur@localhost"
    ).exists()


def test_demo_command_refuses_to_run_without_debug():
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo")
