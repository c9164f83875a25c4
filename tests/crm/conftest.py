from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.factories import DepartmentFactory, SectorFactory, ServiceTypeFactory


@pytest.fixture
def in_laval(laval: Municipality) -> Iterator[Municipality]:
    """Run the test body in Laval's schema."""
    with schema_context(laval.schema_name):
        yield laval


@pytest.fixture
def import_catalog(laval: Municipality) -> dict[str, object]:
    """Laval's catalog for the import tests: a type that needs a location and one that does
    not, in their departments, and a sector."""
    with schema_context(laval.schema_name):
        roads = DepartmentFactory(code="voirie")
        return {
            "roads": roads,
            "pothole": ServiceTypeFactory(code="nid-de-poule", department=roads),
            "graffiti": ServiceTypeFactory(code="graffiti", location_required=False, sla_value=5),
            "sector": SectorFactory(code="centre"),
        }
