from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.crm.open311 import Open311Catalog
from tests.factories import DepartmentFactory, ServiceAttributeFactory, ServiceTypeFactory


@pytest.fixture
def in_laval(laval: Municipality) -> Iterator[Municipality]:
    """Run the test body in Laval's schema."""
    with schema_context(laval.schema_name):
        yield laval


@pytest.fixture
def town_admin(laval: Municipality, staff_client: Callable[..., Client]) -> Client:
    """Laval's municipal administrator (a superuser), signed in on Laval's host. The account
    is on `client.user`."""
    return staff_client(laval, "superuser", email="admin@laval.qc.ca")


@pytest.fixture
def attribute_catalog(laval: Municipality) -> dict[str, Any]:
    """A public service type of Laval with a question of every Open311 datatype (the choice
    required)."""
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
    return {"pothole": pothole}


@pytest.fixture
def open311_catalog(laval: Municipality) -> Iterator[Open311Catalog]:
    """Laval's catalog for the Open311 tests (tests/crm/open311.py), the test body in Laval's
    schema."""
    with schema_context(laval.schema_name):
        yield Open311Catalog()


@pytest.fixture
def laval_client(laval: Municipality, client_for: Callable[[Municipality], Client]) -> Client:
    """An anonymous client on Laval's host."""
    return client_for(laval)


@pytest.fixture
def levis_client(levis: Municipality, client_for: Callable[[Municipality], Client]) -> Client:
    """An anonymous client on Lévis's host."""
    return client_for(levis)
