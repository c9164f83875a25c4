from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.factories import TEST_PASSWORD, UserFactory


@pytest.fixture
def in_laval(laval: Municipality) -> Iterator[Municipality]:
    """Run the test body in Laval's schema."""
    with schema_context(laval.schema_name):
        yield laval


@pytest.fixture
def town_admin(laval: Municipality, client_for: Callable[[Municipality], Client]) -> Client:
    """Laval's municipal administrator (a superuser of Laval's schema), signed in on its host."""
    with schema_context(laval.schema_name):
        UserFactory(email="admin@laval.qc.ca", is_staff=True, is_superuser=True)
        client = client_for(laval)
        assert client.login(username="admin@laval.qc.ca", password=TEST_PASSWORD)
    return client
