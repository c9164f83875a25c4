"""Reads of the service catalog: the types offered, their departments and routing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet

from crm.models import (
    Department,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceType,
)
from crm.roles import Viewer
from crm.selectors.town_config import town_config

__all__ = [
    "CatalogOutlineDepartment",
    "CatalogOutlineType",
    "catalog_outline",
    "department_by_code",
    "routed_department",
    "sector_at",
    "service_type_directory",
    "service_type_for_intake",
    "service_type_offered",
    "service_types_offered",
]


def routed_department(*, service_type: ServiceType, sector: Sector | None) -> Department:
    """The service type's department, unless a sector rule sends it elsewhere.

    A rule for (sector, this type) wins over a rule for (sector, every type).
    """
    return town_config().routed_department(service_type=service_type, sector=sector)


def service_types_offered(*, viewer: Viewer) -> QuerySet[ServiceType]:
    """The active types `viewer` may read and file (staff also the internal ones), with their
    questions and choices in order, in three queries whatever their number."""
    types = ServiceType.objects.filter(is_active=True).select_related("category", "department")
    if not viewer.sees_internal_types:
        types = types.filter(is_public=True)
    return types.prefetch_related(
        Prefetch(
            "attributes",
            queryset=ServiceAttribute.objects.order_by("order", "code").prefetch_related(
                Prefetch("values", queryset=ServiceAttributeValue.objects.order_by("order", "key"))
            ),
        )
    ).order_by("code")


def service_type_offered(*, viewer: Viewer, code: str) -> ServiceType | None:
    """The active type `code` if `viewer` may read and file it."""
    return service_types_offered(viewer=viewer).filter(code=code).first()


def service_type_directory(*, viewer: Viewer) -> QuerySet[ServiceType]:
    """The types `viewer` may file, by category, each with its number of questions
    (`attribute_count`): a directory of services, in one query."""
    types = ServiceType.objects.filter(is_active=True)
    if not viewer.sees_internal_types:
        types = types.filter(is_public=True)
    return (
        types.select_related("category")
        .annotate(attribute_count=Count("attributes"))
        .order_by("category__order", "category__name_fr", "name_fr")
    )


def service_type_for_intake(*, viewer: Viewer, code: str) -> ServiceType | None:
    """The active type `code` as intake needs it (department, category, questions and
    choices), if `viewer` may file it: the process's copy, shared, never to be changed."""
    return town_config().intake_type(code=code, internal=viewer.sees_internal_types)


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


def department_by_code(*, code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


def sector_at(*, latitude: Decimal, longitude: Decimal) -> Sector | None:
    """The sector whose boundary holds the point (the first by name when boundaries overlap),
    or None when no sector has a boundary there."""
    return town_config().sector_at(latitude=latitude, longitude=longitude)
