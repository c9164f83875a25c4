from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.services import api_key_create
from tenants.models import Municipality
from tests.factories import (
    TEST_PASSWORD,
    DepartmentFactory,
    ServiceAttributeFactory,
    ServiceTypeFactory,
    UserFactory,
)


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


@pytest.fixture
def attribute_catalog(laval: Municipality) -> dict[str, Any]:
    """A public service type of Laval with a question of every Open311 datatype (the choice
    required), and a write key for it."""
    with schema_context(laval.schema_name):
        pothole = ServiceTypeFactory(
            code="nid-de-poule", department=DepartmentFactory(code="voirie")
        )
        for order, (code, datatype, choices) in enumerate(
            [
                ("taille", "singlevaluelist", ["petit", "grand"]),
                ("voies", "multivaluelist", ["gauche", "droite"]),
                ("profondeur", "number", []),
                ("depuis", "datetime", []),
                ("couleur", "string", []),
                ("precisions", "text", []),
            ]
        ):
            ServiceAttributeFactory(
                service_type=pothole,
                code=code,
                datatype=datatype,
                required=code == "taille",
                order=order,
                choices=choices,
            )
        _key, secret = api_key_create(actor=None, name="Voilà! Signalement", scope="write")
    return {"pothole": pothole, "key": secret}
