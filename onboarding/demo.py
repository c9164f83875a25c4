"""Demo data, in one place: the platform, the host Ville de Laval and the partner Ville de Lévis.

Idempotent: running it again brings the same records back to the demo state. It lives at the
top of the layers (it drives the console's services and the CRM's), so `tenants` imports
neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from crm.demo import LAVAL, LEVIS, DemoPlace, build_crm_demo, demo_citizen_email, demo_staff
from crm.models import StaffRole
from crm.services import catalog_copy_from
from onboarding.models import ConsoleMember, ConsoleRole, Plan
from onboarding.services import (
    MANUAL_CHECKLIST,
    project_checklist_update,
    project_go_live,
    project_provision,
    project_start,
    project_step_save,
)
from tenants.accounts.models import User
from tenants.accounts.services import account_email_verify
from tenants.models import Domain, Municipality, Region
from tenants.services import administrator_ensure, municipality_create

DEMO_PASSWORD = "relais-demo-2026"  # noqa: S105  (printed for the demo; refused outside DEBUG)


@dataclass(frozen=True)
class DemoAccount:
    where: str
    url: str
    email: str
    password: str
    role: str = ""  # what the account is, as `make run` prints it


@dataclass(frozen=True)
class DemoTown:
    name: str
    display_name: str
    slug: str
    kind: str
    region: str
    population: int
    privacy_officer_name: str
    primary_colour: str
    # The host city carries the demo catalog and bank; a partner is onboarded from it (a copy
    # of its catalog and information bank).
    with_crm_demo: bool = False
    # Each town's own demo staff, citizens and last 90 days of requests (None: none).
    place: DemoPlace | None = None


TOWNS = (
    DemoTown(
        name="Ville de Laval",
        display_name="Laval",
        slug="laval",
        kind=Municipality.Kind.HOST,
        region=Region.LAVAL,
        population=438_366,
        privacy_officer_name="Service du greffe de Laval",
        primary_colour="#00558c",
        with_crm_demo=True,
        place=LAVAL,
    ),
    DemoTown(
        name="Ville de Lévis",
        display_name="Lévis",
        slug="levis",
        kind=Municipality.Kind.PARTNER,
        region=Region.CHAUDIERE_APPALACHES,
        population=149_683,
        privacy_officer_name="Service du greffe de Lévis",
        primary_colour="#1b5e20",
        place=LEVIS,
    ),
)


def _url(host: str, port: int) -> str:
    return f"http://{host}" + ("" if port == 80 else f":{port}")


def build_demo(*, port: int, towns: tuple[DemoTown, ...] = TOWNS) -> list[DemoAccount]:
    base = settings.RELAIS_BASE_DOMAIN
    accounts: list[DemoAccount] = []

    with schema_context("public"), transaction.atomic():
        operator_email = f"operateur@{base}"
        operator = User.objects.filter(email=operator_email).first() or User(email=operator_email)
        operator.first_name, operator.last_name = "Opératrice", "Plateforme"
        operator.is_staff = operator.is_superuser = operator.is_active = True
        operator.set_password(DEMO_PASSWORD)
        operator.save()
        account_email_verify(user=operator)
        ConsoleMember.objects.update_or_create(
            user=operator, defaults={"role": ConsoleRole.OPERATOR}
        )
    accounts.append(
        DemoAccount(
            "Plateforme",
            _url(base, port),
            operator_email,
            DEMO_PASSWORD,
            "opératrice de la console",
        )
    )

    host: Municipality | None = None
    for town in towns:
        domain = f"{town.slug}.{base}"
        fields: dict[str, Any] = {
            "name": town.name,
            "display_name": town.display_name,
            "kind": town.kind,
            "host": host if town.kind == Municipality.Kind.PARTNER else None,
            "region": town.region,
            "population": town.population,
            "status": Municipality.Status.LIVE,
            "privacy_officer_name": town.privacy_officer_name,
            "privacy_officer_email": f"vie-privee@{domain}",
            "primary_colour": town.primary_colour,
        }
        municipality = Municipality.objects.filter(slug=town.slug).first()
        if municipality is None and town.kind == Municipality.Kind.PARTNER and host is not None:
            # A partner is onboarded from its host like any new town: through the console's
            # wizard (provisioning, copy of the host's catalog and bank, invitations, go-live).
            municipality = _onboard_through_the_wizard(
                town=town, host=host, domain=domain, operator=operator
            )
        elif municipality is None:
            municipality = municipality_create(slug=town.slug, domain=domain, **fields)
        else:
            for name, value in fields.items():
                setattr(municipality, name, value)
            municipality.full_clean()
            municipality.save()
            if not Domain.objects.filter(domain=domain).exists():
                Domain.objects.create(domain=domain, tenant=municipality, is_primary=True)
        if town.kind == Municipality.Kind.HOST:
            host = municipality
        admin_email = f"admin@{domain}"
        administrator_ensure(municipality=municipality, email=admin_email, password=DEMO_PASSWORD)
        with schema_context(municipality.schema_name):
            User.objects.filter(email=admin_email).update(
                first_name="Administratrice", last_name=town.name
            )
        if town.with_crm_demo:
            with schema_context(municipality.schema_name):
                build_crm_demo(domain=domain, place=town.place or LAVAL)
        elif municipality.host is not None:
            with schema_context(municipality.schema_name):  # what the host added since
                catalog_copy_from(source_schema=municipality.host.schema_name)
                if town.place is not None:
                    build_crm_demo(domain=domain, place=town.place, with_catalog=False)
        url = _url(domain, port)
        accounts.append(
            DemoAccount(town.name, url, admin_email, DEMO_PASSWORD, _role_label("administrator"))
        )
        if town.place is not None:
            accounts += [
                DemoAccount(
                    town.name,
                    url,
                    member.email,
                    DEMO_PASSWORD,
                    _role_label(member.role, member.department_code),
                )
                for member in demo_staff(domain=domain)
            ]
            accounts.append(
                DemoAccount(
                    town.name,
                    url,
                    demo_citizen_email(domain=domain),
                    DEMO_PASSWORD,
                    "citoyenne (portail, « Mon compte »)",
                )
            )
    return accounts


def _role_label(role: str, department_code: str | None = None) -> str:
    label = str(StaffRole(role).label)
    return f"{label} ({department_code})" if department_code else label


def _onboard_through_the_wizard(
    *, town: DemoTown, host: Municipality, domain: str, operator: User
) -> Municipality:
    project = project_start(
        host=host, name=town.name, slug=town.slug, domain=domain, actor=operator
    )
    admin_email = f"admin@{domain}"
    steps: list[tuple[str, dict[str, Any]]] = [
        ("profile", {"population": town.population, "region": town.region}),
        ("plan", {"plan": Plan.METROPOLITAN}),
        (
            "catalog",
            {
                "copy_catalog": True,
                "include_faq": True,
                "service_type_codes": None,
                "department_map": {},
            },
        ),
        ("staff", {"administrator_email": admin_email, "staff": []}),
        (
            "branding",
            {
                "display_name": town.display_name,
                "primary_colour": town.primary_colour,
                "privacy_officer_name": town.privacy_officer_name,
                "privacy_officer_email": f"vie-privee@{domain}",
            },
        ),
        ("review", {}),
    ]
    for step, values in steps:
        project = project_step_save(project=project, step=step, values=values, actor=operator)
    project = project_provision(project=project, actor=operator)
    if project.municipality is None:
        raise RuntimeError(f"demo onboarding failed: {project.failure_message}")
    # The administrator "chooses a password" (the demo's), which the go-live checklist checks.
    administrator_ensure(
        municipality=project.municipality, email=admin_email, password=DEMO_PASSWORD
    )
    project = project_checklist_update(project=project, done=MANUAL_CHECKLIST, actor=operator)
    project = project_go_live(project=project, actor=operator)
    assert project.municipality is not None  # noqa: S101  (set by project_provision)
    return project.municipality
