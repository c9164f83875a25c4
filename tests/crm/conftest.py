from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import StaffProfile
from crm.services import api_key_create
from tenants.models import Municipality
from tests.accounts import signed_in_staff
from tests.conftest import host_of
from tests.factories import (
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
    """Laval's municipal administrator (a superuser), signed in on Laval's host. The account
    is on `client.user`."""
    with schema_context(laval.schema_name):
        user = UserFactory(email="admin@laval.qc.ca", is_staff=True, is_superuser=True)
    return signed_in_staff(host_of(laval), laval.schema_name, user)


@pytest.fixture
def staff_client(
    laval: Municipality, client_for: Callable[[Municipality], Client]
) -> Callable[..., Client]:
    """A Laval staff account with a role (and Django permissions, when given), signed in with
    its second factor."""

    def make(
        email: str, role: str, *, permissions: tuple[str, ...] = (), department=None
    ) -> Client:
        with schema_context(laval.schema_name):
            user = UserFactory(email=email, is_staff=True)
            StaffProfile.objects.create(user=user, role=role, department=department)
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label="crm", codename__in=list(permissions)
                )
            )
        return signed_in_staff(host_of(laval), laval.schema_name, user)

    return make


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
