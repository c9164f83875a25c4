"""The 311 desk's door: who takes calls, and who is sent elsewhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Municipality
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["agent", "supervisor", "administrator"])
def test_agents_supervisors_and_administrators_take_calls_on_the_desk(
    laval: Municipality, desk_client: Callable[..., Client], role: str
) -> None:
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    client = desk_client(role, department=department if role == "supervisor" else None)

    response = client.get("/personnel/")

    assert response.status_code == 200
    assert "<h1>Accueil 311</h1>" in response.text
    assert 'action="/personnel/appel/"' in response.text
    assert 'href="/personnel/nouvelle-requete/"' in response.text
    assert client.get("/personnel/nouvelle-requete/").status_code == 200


def test_department_staff_are_sent_to_their_queue(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    client = desk_client("department", department=department)

    response = client.get("/personnel/")

    assert response.status_code == 302
    assert response.url == "/personnel/files/"
    assert client.get("/personnel/nouvelle-requete/").status_code == 403
    assert client.post("/personnel/appel/", {}).status_code == 403


def test_the_desk_answers_in_english(desk_client: Callable[..., Client]) -> None:
    client = desk_client("agent")

    response = client.get("/en/staff/")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert 'action="/en/staff/' in response.text
