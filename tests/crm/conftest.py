from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import schema_context

from tenants.models import Municipality


@pytest.fixture
def in_laval(laval: Municipality) -> Iterator[Municipality]:
    """Run the test body in Laval's schema."""
    with schema_context(laval.schema_name):
        yield laval
