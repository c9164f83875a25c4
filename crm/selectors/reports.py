"""Figures for dashboards and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from crm.models import (
    Interaction,
)

__all__ = [
    "ResolutionRate",
    "first_contact_resolution",
]


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
