"""Reads of the platform console. The console home reads the public-schema rollup: a page view
never visits the towns' schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django_tenants.utils import schema_context

from crm.selectors import CatalogOutlineDepartment, catalog_outline
from onboarding.models import Activity, Milestone, OnboardingProject, TownRollup
from tenants.models import Domain, Municipality


@dataclass(frozen=True)
class ConsoleTown:
    municipality: Municipality
    domains: list[str]
    plan: str
    went_live_at: datetime | None
    implementation_days: int | None
    rollup: TownRollup | None


TOWNS_PER_PAGE = 50
SEARCH_MAX = 100


@dataclass(frozen=True)
class ConsoleTownPage:
    towns: list[ConsoleTown]
    total: int  # the towns that match the search, every page
    page: int
    pages: int
    search: str


def console_town_list(*, search: str = "", page: int = 1) -> ConsoleTownPage:
    """One page of the towns (TOWNS_PER_PAGE, by name) whose name, address (slug) or one of
    whose domains holds `search`, each with its domains, plan, go-live date and activity
    rollup: five queries whatever the number of towns. A page past the last gives the last."""
    search = " ".join(search.split())[:SEARCH_MAX]
    towns = Municipality.objects.exclude(schema_name="public")
    if search:
        matching = Domain.objects.filter(domain__icontains=search).values("tenant_id")
        towns = towns.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(pk__in=matching)
        )
    total = towns.count()
    pages = max(1, -(-total // TOWNS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * TOWNS_PER_PAGE
    shown = (
        towns.select_related("rollup", "onboarding_project")
        .prefetch_related(
            Prefetch("domains", queryset=Domain.objects.order_by("-is_primary", "domain")),
            Prefetch("onboarding_project__milestones"),
        )
        .order_by("name", "pk")[start : start + TOWNS_PER_PAGE]
    )
    rows = []
    for town in shown:
        project = getattr(town, "onboarding_project", None)
        milestones = {m.kind: m.at for m in project.milestones.all()} if project else {}
        started = milestones.get(Milestone.Kind.STARTED)
        live = milestones.get(Milestone.Kind.WENT_LIVE)
        rows.append(
            ConsoleTown(
                municipality=town,
                domains=[domain.domain for domain in town.domains.all()],
                plan=project.get_plan_display() if project and project.plan else "",
                went_live_at=live,
                implementation_days=(live - started).days if live and started else None,
                rollup=getattr(town, "rollup", None),
            )
        )
    return ConsoleTownPage(rows, total, page, pages, search)


def project_list(*, open_only: bool = False) -> QuerySet[OnboardingProject]:
    projects = OnboardingProject.objects.select_related("host", "municipality").annotate(
        hours=Sum("time_entries__hours")
    )
    if open_only:
        projects = projects.exclude(status=OnboardingProject.Status.LIVE)
    return projects.order_by("-created_at")


@dataclass(frozen=True)
class ActivityHours:
    activity: str
    label: str
    hours: Decimal


def project_hours(*, project: OnboardingProject) -> list[ActivityHours]:
    """Hours logged on a project by activity (what billing charges back)."""
    totals = dict(
        project.time_entries.values_list("activity").annotate(total=Sum("hours")).order_by()
    )
    return [
        ActivityHours(activity.value, str(activity.label), totals[activity.value])
        for activity in Activity
        if activity.value in totals
    ]


def host_catalog_outline(*, project: OnboardingProject) -> list[CatalogOutlineDepartment]:
    """The catalog of the project's host by department: what the wizard offers to copy."""
    with schema_context(project.host.schema_name):
        return catalog_outline()
