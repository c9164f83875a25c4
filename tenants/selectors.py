"""Reads of the public schema's municipality records."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from tenants.models import Domain, Municipality


def serving_municipality_list() -> QuerySet[Municipality]:
    """Towns in service, each annotated with `primary_domain` (one query)."""
    primary = Domain.objects.filter(tenant=OuterRef("pk"), is_primary=True).values("domain")[:1]
    return (
        Municipality.objects.filter(status=Municipality.Status.LIVE)
        .exclude(schema_name="public")
        .annotate(primary_domain=Subquery(primary))
        .order_by("name")
    )
