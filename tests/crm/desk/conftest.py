"""Fixtures of the staff workspace's tests: staff of each role signed in on a town's host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import CrmSettings
from tenants.models import Municipality
from tests.accounts import sign_in
from tests.conftest import host_of
from tests.factories import StaffProfileFactory


@pytest.fixture
def desk_client(laval: Municipality, staff_client: Callable[..., Client]) -> Callable[..., Client]:
    """`desk_client(role, town=laval, department=None)`: a new staff account of that role,
    signed in with its second factor (the account is on `client.user`). Department staff and
    supervisors need a department of the town."""

    def make(role: str, *, town: Municipality | None = None, department: Any = None) -> Client:
        return staff_client(town or laval, role, department=department)

    return make


@pytest.fixture
def password_only_client() -> Callable[..., Client]:
    """`password_only_client(town, role, department=None)`: staff signed in with a password
    alone (no TOTP device on the account)."""

    def make(town: Municipality, role: str, *, department: Any = None) -> Client:
        with schema_context(town.schema_name):
            user = StaffProfileFactory(role=role, department=department, user__is_staff=True).user
        client = Client(HTTP_HOST=host_of(town))
        sign_in(client, user.email)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


def set_all_staff_second_factor(town: Municipality, *, required: bool) -> None:
    with schema_context(town.schema_name):
        settings, _created = CrmSettings.objects.get_or_create(pk=1)
        settings.staff_second_factor_required = required
        settings.save()
