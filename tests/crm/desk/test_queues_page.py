"""The queues page: each role's queue, tabs, filters, sort, pages, SLA badges, its cost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.factories import DepartmentFactory, ServiceRequestFactory, ServiceTypeFactory

pytestmark = pytest.mark.django_db


def test_smoke(laval: Municipality, desk_client: Callable[..., Client]) -> None:
    with schema_context(laval.schema_name):
        ServiceRequestFactory()
    client = desk_client("agent")

    response = client.get("/personnel/files/")

    open("/tmp/qsmoke/page.html", "w").write(response.text)
    assert response.status_code == 200
