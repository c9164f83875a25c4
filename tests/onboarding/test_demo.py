from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Min
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.demo import BillingDemo, build_billing_demo
from billing.models import Invoice
from crm.models import (
    Alert,
    AlertSubscription,
    Citizen,
    Department,
    FaqArticle,
    Interaction,
    Sector,
    ServiceRequest,
    ServiceType,
    StaffProfile,
)
from crm.selectors import alerts_current
from onboarding.demo import DEMO_PASSWORD, TOWNS, DemoAccount, build_demo
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
    for schema in ("laval", "levis"):
        with schema_context(schema):
            state[f"crm-{schema}"] = [
                model.objects.count()
                for model in (
                    Department,
                    ServiceType,
                    FaqArticle,
                    Citizen,
                    ServiceRequest,
                    Interaction,
                    StaffProfile,
                )
            ]
    return state


STAFF_ROLES = [
    ("admin", "administrateur municipal"),
    ("agente.311", "agent 311"),
    ("agent.311", "agent 311"),
    ("agente.comptoir", "agent 311"),
    ("voirie", "superviseur (travaux-publics)"),
    ("environnement", "superviseur (environnement)"),
    ("collectes", "personnel d'un service (environnement)"),
    ("citoyenne", "citoyenne (portail, « Mon compte »)"),
]


def test_demo_builds_the_platform_laval_and_levis_and_is_idempotent():
    accounts = build_demo(port=8000)
    charge_back = build_billing_demo(operator_email="operateur@localhost")
    first = _state()
    build_demo(port=8000)
    assert build_billing_demo(operator_email="operateur@localhost") == charge_back

    assert _state() == first
    assert [(a.where, a.url, a.email, a.role) for a in accounts] == [
        ("Plateforme", "http://localhost:8000", "operateur@localhost", "opératrice de la console"),
        *[
            (name, f"http://{slug}.localhost:8000", f"{local}@{slug}.localhost", role)
            for name, slug in (("Ville de Laval", "laval"), ("Ville de Lévis", "levis"))
            for local, role in STAFF_ROLES
        ],
    ]
    assert ("levis", "partner", "live", "laval") in first["towns"]
    # The charge-back: Lévis's implementation invoice issued and paid, its subscription issued.
    year = timezone.localdate().year
    assert (charge_back.invoices, charge_back.paid) == (2, 1)
    assert list(
        Invoice.objects.filter(account__municipality__slug="levis")
        .order_by("number")
        .values_list("number", "status")
    ) == [(f"FAC-{year}-00001", "paid"), (f"FAC-{year}-00002", "open")]
    assert ("laval", "host", "live", None) in first["towns"]
    assert ("admin@laval.localhost", True) in first["laval"]
    assert "admin@laval.localhost" not in [email for email, _ in first["levis"]]
    with schema_context("laval"):
        host_types = dict(ServiceType.objects.values_list("uuid", "code"))
    with schema_context("levis"):
        assert User.objects.get(email="admin@levis.localhost").check_password(DEMO_PASSWORD)
        # The partner has a copy of the host's catalog and bank, with provenance, and its own
        # staff, citizens and requests (none of the host's: another schema).
        copied = dict(ServiceType.objects.values_list("source_uuid", "code"))
        assert copied == host_types
        assert FaqArticle.objects.filter(source_uuid__isnull=False).count() >= 120
        assert ServiceRequest.objects.count() >= 100
        assert Citizen.objects.count() == 40
        assert set(Citizen.objects.values_list("phone", flat=True)) == {
            f"418555{index:04d}" for index in range(40)
        }
        assert StaffProfile.objects.filter(role="supervisor").count() == 2
        assert User.objects.get(email="voirie@levis.localhost").check_password(DEMO_PASSWORD)
        # The demo citizen's account holds a citizen record with requests and preferences.
        citizen = Citizen.objects.get(account__email="citoyenne@levis.localhost")
        assert citizen.account.check_password(DEMO_PASSWORD)
        assert ServiceRequest.objects.filter(citizen=citizen).exists()
        assert citizen.consents.count() == 3
    with schema_context("laval"):
        statuses = set(ServiceRequest.objects.values_list("status", flat=True))
        assert first["crm-laval"] == _state()["crm-laval"]  # the CRM demo is idempotent too
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
        # Districts with boundaries: a placed request gets the one that holds it.
        assert Sector.objects.filter(boundary__isnull=False).count() == 10
        placed = ServiceRequest.objects.filter(latitude__isnull=False)
        assert placed.filter(sector__isnull=True).count() == 0
        # A recent alert in force, and the demo citizen follows collections in Chomedey.
        assert [a.title_fr for a in alerts_current(now=timezone.now())] == [
            "Collecte des résidus verts reportée au lendemain"
        ]
        assert set(
            AlertSubscription.objects.filter(
                citizen__account__email="citoyenne@laval.localhost"
            ).values_list("topic__code", "sector__code")
        ) == {("collectes", "chomedey"), ("travaux-routiers", "chomedey")}
    with schema_context("levis"):
        assert not Alert.objects.exists()


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
        assert "admin@demo-levis.localhost" in User.objects.values_list("email", flat=True)
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


def test_the_demo_spreads_90_days_of_activity_for_the_dashboards():
    build_demo(port=8000)
    now = timezone.now()

    for schema, requests in (("laval", 320), ("levis", 100)):
        with schema_context(schema):
            built = ServiceRequest.objects.exclude(first_contact_resolution=True)
            span = built.aggregate(first=Min("created_at"), last=Max("created_at"))
            assert span["first"] >= now - timedelta(days=90)
            assert span["first"] <= now - timedelta(days=80)
            assert span["last"] >= now - timedelta(days=5)
            assert built.count() >= requests
            for weeks_ago in range(12):  # every week of the last twelve has requests
                end = now - timedelta(weeks=weeks_ago)
                assert built.filter(created_at__range=(end - timedelta(weeks=1), end)).exists()
            # Resolved ones, late ones, open ones; interactions of the three agents, some settled
            # at first contact and some not.
            assert built.filter(resolved_at__isnull=False).count() >= requests // 4
            assert built.filter(sla_breached_at__isnull=False).exists()
            assert built.filter(resolved_at__gt=F("sla_due_at")).exists()
            assert built.filter(status__in=["new", "assigned", "in_progress"]).count() >= 20
            agents = Interaction.objects.values_list("agent__email", flat=True).distinct()
            assert {email.split("@")[0] for email in agents} == {
                "agente.311",
                "agent.311",
                "agente.comptoir",
            }
            settled = set(Interaction.objects.values_list("resolved_at_first_contact", flat=True))
            assert settled == {True, False}


def test_the_demo_command_prints_each_staff_account_and_the_second_factor(monkeypatch):
    accounts = [
        DemoAccount(
            "Plateforme",
            "http://localhost:8000",
            "operateur@localhost",
            DEMO_PASSWORD,
            "opératrice de la console",
        ),
        DemoAccount(
            "Ville de Laval",
            "http://laval.localhost:8000",
            "admin@laval.localhost",
            DEMO_PASSWORD,
            "administrateur municipal",
        ),
        DemoAccount(
            "Ville de Laval",
            "http://laval.localhost:8000",
            "voirie@laval.localhost",
            DEMO_PASSWORD,
            "superviseur (travaux-publics)",
        ),
        DemoAccount(
            "Ville de Lévis",
            "http://levis.localhost:8000",
            "voirie@levis.localhost",
            DEMO_PASSWORD,
            "superviseur (travaux-publics)",
        ),
    ]
    monkeypatch.setattr("billing.management.commands.demo.build_demo", lambda *, port: accounts)
    monkeypatch.setattr(
        "billing.management.commands.demo.build_billing_demo",
        lambda *, operator_email: BillingDemo(invoices=2, paid=1),
    )
    output = StringIO()

    with override_settings(DEBUG=True):
        call_command("demo", "--port", "8000", stdout=output)

    lines = output.getvalue().splitlines()
    assert lines[0] == "Démonstration prête (mot de passe de tous les comptes : relais-demo-2026) :"
    assert lines[1:8] == [
        "  Plateforme — http://localhost:8000",
        f"    {'operateur@localhost':<38} opératrice de la console",
        "  Ville de Laval — http://laval.localhost:8000",
        f"    {'admin@laval.localhost':<38} administrateur municipal",
        f"    {'voirie@laval.localhost':<38} superviseur (travaux-publics)",
        "  Ville de Lévis — http://levis.localhost:8000",
        f"    {'voirie@levis.localhost':<38} superviseur (travaux-publics)",
    ]
    assert any("code TOTP à sa première connexion" in line for line in lines)
    assert any("/personnel/tableaux-de-bord/" in line for line in lines)
    assert any("2 factures de Lévis (1 payée)" in line for line in lines)
