"""Reads of the catalog as its administrators edit it in the staff workspace: every service
type (inactive and internal ones included), one type with its questions, the routing rules."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from crm.models import (
    RoutingRule,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceType,
)

__all__ = [
    "catalog_routing_rule",
    "catalog_routing_rules",
    "catalog_service_attribute",
    "catalog_service_type",
    "catalog_service_types",
    "sector_choices",
]


def catalog_service_types() -> QuerySet[ServiceType]:
    """Every service type with its category, department and number of questions
    (`attribute_count`), by category then name: one query whatever their number."""
    return (
        ServiceType.objects.select_related("category", "department")
        .annotate(attribute_count=Count("attributes"))
        .order_by("category__order", "category__name_fr", "name_fr")
    )


def catalog_service_type(*, pk: int) -> ServiceType | None:
    """One type with its questions and their choices, in order (three queries)."""
    return (
        ServiceType.objects.select_related("category", "department")
        .prefetch_related(
            Prefetch(
                "attributes",
                queryset=ServiceAttribute.objects.order_by("order", "id").prefetch_related(
                    Prefetch(
                        "values", queryset=ServiceAttributeValue.objects.order_by("order", "id")
                    )
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )


def catalog_service_attribute(*, service_type: ServiceType, pk: int) -> ServiceAttribute | None:
    """One question of `service_type`, with its choices."""
    return (
        ServiceAttribute.objects.filter(service_type=service_type, pk=pk)
        .prefetch_related(
            Prefetch("values", queryset=ServiceAttributeValue.objects.order_by("order", "id"))
        )
        .first()
    )


def catalog_routing_rules() -> QuerySet[RoutingRule]:
    """Every routing rule with its sector, type and department: one query."""
    return RoutingRule.objects.select_related("sector", "service_type", "department").order_by(
        "sector__name_fr", "service_type__name_fr", "pk"
    )


def catalog_routing_rule(*, pk: int) -> RoutingRule | None:
    return (
        RoutingRule.objects.select_related("sector", "service_type", "department")
        .filter(pk=pk)
        .first()
    )


def sector_choices() -> QuerySet[Sector]:
    return Sector.objects.order_by("name_fr")
