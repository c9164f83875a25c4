"""Reads of the CRM: each returns what a screen or an API needs in a constant number of queries."""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from crm.business_time import WorkingCalendar
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    ApiKey,
    BusinessCalendar,
    Citizen,
    CrmSettings,
    Department,
    Interaction,
    RequestStatus,
    RoutingRule,
    Sector,
    ServiceRequest,
    ServiceType,
    StaffRole,
    api_key_digest,
)
from tenants.accounts.models import User

EARTH_RADIUS_M = 6_371_000


def crm_settings() -> CrmSettings:
    settings, _created = CrmSettings.objects.get_or_create(pk=1)
    return settings


def working_calendar() -> WorkingCalendar:
    """The town's calendar as a value (three queries).

    Raises CrmError when it cannot compute anything (no working day, unknown time zone).
    """
    calendar, _created = BusinessCalendar.objects.get_or_create(pk=1)
    hours = {h.weekday: (h.opens_at, h.closes_at) for h in calendar.working_hours.all()}
    closures = frozenset(calendar.closures.values_list("date", flat=True))
    try:
        tz = ZoneInfo(calendar.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le fuseau horaire du calendrier de travail ({zone}) est inconnu.").format(
                zone=calendar.time_zone
            ),
            status=500,
        ) from error
    if not hours:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le calendrier de travail n'a aucune heure d'ouverture : ajoutez-en une."),
            status=500,
        )
    return WorkingCalendar(
        tz=tz,
        hours=hours,
        closures=closures,
        quebec_holidays=calendar.quebec_holidays,
    )


def routed_department(*, service_type: ServiceType, sector: Sector | None) -> Department:
    """The service type's department, unless a sector rule sends it elsewhere.

    A rule for (sector, this type) wins over a rule for (sector, every type).
    """
    if sector is not None:
        rule = (
            RoutingRule.objects.filter(sector=sector)
            .filter(Q(service_type=service_type) | Q(service_type__isnull=True))
            .select_related("department")
            .order_by("service_type_id")  # NULLS LAST in ascending order: the specific rule first
            .first()
        )
        if rule is not None:
            return rule.department
    return service_type.department


def service_type_for_intake(*, code: str) -> ServiceType | None:
    return (
        ServiceType.objects.filter(code=code, is_active=True)
        .select_related("department", "category")
        .prefetch_related("attributes__values")
        .first()
    )


def request_list(
    *,
    status: str | None = None,
    department: Department | None = None,
    service_type: ServiceType | None = None,
    citizen: Citizen | None = None,
) -> QuerySet[ServiceRequest]:
    """Requests with what a list shows, in two queries whatever the page size."""
    queryset = ServiceRequest.objects.select_related(
        "service_type", "department", "assignee", "sector", "citizen", "duplicate_of"
    )
    if status:
        queryset = queryset.filter(status=status)
    if department is not None:
        queryset = queryset.filter(department=department)
    if service_type is not None:
        queryset = queryset.filter(service_type=service_type)
    if citizen is not None:
        queryset = queryset.filter(citizen=citizen)
    return queryset


def request_timeline(*, service_request: ServiceRequest, public_only: bool = False) -> QuerySet:
    events = service_request.events.select_related("actor").order_by("created_at", "id")
    return events.filter(visibility="public") if public_only else events


def _distance_m(lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal) -> float:
    """Great-circle distance (haversine), precise to a metre at a town's scale."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class DuplicateCandidate:
    service_request: ServiceRequest
    distance_m: float


def request_duplicate_candidates(
    *,
    service_type: ServiceType,
    latitude: Decimal | None,
    longitude: Decimal | None,
    now: datetime,
    exclude_pk: int | None = None,
) -> list[DuplicateCandidate]:
    """Open requests of the same type within the town's radius and window, nearest first."""
    if latitude is None or longitude is None:
        return []
    settings = crm_settings()
    radius = settings.duplicate_radius_m
    # A bounding box on the indexed columns first; the exact distance on the few rows left.
    dlat = Decimal(radius / 111_320)
    dlon = Decimal(radius / (111_320 * max(math.cos(math.radians(latitude)), 0.01)))
    candidates = (
        ServiceRequest.objects.filter(
            service_type=service_type,
            status__in=[
                RequestStatus.NEW,
                RequestStatus.ASSIGNED,
                RequestStatus.IN_PROGRESS,
                RequestStatus.ON_HOLD,
            ],
            created_at__gte=now - timedelta(days=settings.duplicate_window_days),
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlon, longitude + dlon),
        )
        .exclude(pk=exclude_pk or 0)
        .select_related("service_type")
    )
    found = [
        DuplicateCandidate(r, _distance_m(latitude, longitude, r.latitude, r.longitude))  # type: ignore[arg-type]
        for r in candidates
    ]
    return sorted((c for c in found if c.distance_m <= radius), key=lambda c: c.distance_m)


def citizen_duplicates(*, citizen: Citizen) -> QuerySet[Citizen]:
    """Other active records with the same e-mail or the same phone number."""
    match = Q(pk__in=[])
    if citizen.email:
        match |= Q(email__iexact=citizen.email)
    if citizen.phone:
        match |= Q(phone=citizen.phone)
    return Citizen.objects.filter(match, merged_into__isnull=True).exclude(pk=citizen.pk)


@dataclass(frozen=True)
class ResolutionRate:
    key: str
    interactions: int
    resolved_first_contact: int

    @property
    def rate(self) -> float:
        return self.resolved_first_contact / self.interactions if self.interactions else 0.0


def first_contact_resolution(*, start: date, end: date, by: str) -> list[ResolutionRate]:
    """First-contact resolution between two dates (end excluded), by channel, department or
    month. One query."""
    group = {"channel": "channel", "department": "department__code", "month": "month"}[by]
    queryset = Interaction.objects.filter(created_at__date__gte=start, created_at__date__lt=end)
    if by == "month":
        queryset = queryset.annotate(month=TruncMonth("created_at"))
    rows = (
        queryset.values(group)
        .annotate(total=Count("id"), resolved=Count("id", filter=Q(resolved_at_first_contact=True)))
        .order_by(group)
    )
    return [
        ResolutionRate(
            key=row[group].strftime("%Y-%m") if by == "month" else str(row[group] or "-"),
            interactions=row["total"],
            resolved_first_contact=row["resolved"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TownActivity:
    staff_count: int
    requests_since: int
    last_activity_at: datetime | None


def town_activity(*, since: datetime) -> TownActivity:
    """The current town's figures for the platform's rollup: active staff accounts, requests
    created since `since`, and the time of the latest request, event or interaction."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).count()
    created = ServiceRequest.objects.filter(created_at__gte=since).count()
    latest = [
        ServiceRequest.objects.aggregate(at=Max("updated_at"))["at"],
        Interaction.objects.aggregate(at=Max("created_at"))["at"],
    ]
    known = [at for at in latest if at is not None]
    return TownActivity(
        staff_count=staff, requests_since=created, last_activity_at=max(known) if known else None
    )


@dataclass(frozen=True)
class CatalogOutlineType:
    code: str
    name: str


@dataclass(frozen=True)
class CatalogOutlineDepartment:
    code: str
    name: str
    service_types: list[CatalogOutlineType]


def catalog_outline() -> list[CatalogOutlineDepartment]:
    """The current town's departments with their service types (codes and names), for choosing
    what a partner copies. Two queries."""
    by_department: dict[int, list[CatalogOutlineType]] = {}
    for service_type in ServiceType.objects.order_by("name_fr"):
        by_department.setdefault(service_type.department_id, []).append(
            CatalogOutlineType(service_type.code, service_type.localized("name"))
        )
    return [
        CatalogOutlineDepartment(
            department.code, department.localized("name"), by_department.get(department.pk, [])
        )
        for department in Department.objects.order_by("name_fr")
    ]


def api_key_for(*, key: str) -> ApiKey | None:
    """The active key whose digest matches `key`, or None (unknown, malformed or revoked)."""
    if not key or len(key) > 200:
        return None
    return ApiKey.objects.filter(digest=api_key_digest(key), revoked_at__isnull=True).first()


def citizen_search(*, query: str) -> QuerySet[Citizen]:
    """Active citizens whose name, e-mail or phone matches `query` (all of them when blank);
    merged and anonymised records are left out."""
    citizens = Citizen.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    text = query.strip()
    if not text:
        return citizens
    digits = re.sub(r"\D", "", text)
    match = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
    if len(digits) >= 4:
        match |= Q(phone__contains=digits)
    return citizens.filter(match)


def department_by_code(*, code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


@dataclass(frozen=True)
class StaffRoleOf:
    role: str
    department: Department | None


def staff_role_of(*, user: User | AnonymousUser) -> StaffRoleOf | None:
    """A town staff account's role: a superuser is a municipal administrator, other staff have
    their profile's role and department; None for anyone else (a citizen, a staff account
    without a profile, an inactive one). The one home of this rule (REST API, admin pages)."""
    if not (user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser)):
        return None
    profile = getattr(user, "staff_profile", None)
    if user.is_superuser:
        return StaffRoleOf(StaffRole.ADMINISTRATOR.value, profile.department if profile else None)
    if profile is None:
        return None
    return StaffRoleOf(profile.role, profile.department)


def is_town_administrator(*, user: User | AnonymousUser) -> bool:
    """A municipal administrator of the current town (see staff_role_of)."""
    held = staff_role_of(user=user)
    return held is not None and held.role == StaffRole.ADMINISTRATOR
