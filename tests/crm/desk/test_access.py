"""The workspace's door: sign-in, the second factor by role and town setting, roles, towns."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Citizen
from tenants.models import Municipality
from tests.accounts import sign_in
from tests.conftest import host_of
from tests.crm.desk.conftest import set_all_staff_second_factor
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(laval: Municipality) -> None:
    response = Client(HTTP_HOST=host_of(laval)).get("/personnel/")

    assert response.status_code == 302
    assert response.url == "/comptes/login/?next=/personnel/"


def test_the_workspace_answers_in_french_and_in_english(desk_client: Callable[..., Client]) -> None:
    client = desk_client("agent")

    french = client.get("/personnel/")
    english = client.get("/en/staff/")

    assert french.status_code == 200
    assert '<html lang="fr">' in french.text
    assert "Accueil 311" in french.text
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    assert "311 desk" in english.text


def test_a_citizen_account_gets_the_403_page(laval: Municipality) -> None:
    with schema_context(laval.schema_name):
        user = UserFactory()
        Citizen.objects.create(first_name="Léa", last_name="Roy", email=user.email, account=user)
    client = Client(HTTP_HOST=host_of(laval))
    sign_in(client, user.email)

    response = client.get("/personnel/")

    assert response.status_code == 403
    assert "Cet espace est réservé au personnel de la Ville." in response.text
    assert "<html" in response.text  # the page, not JSON


@pytest.mark.parametrize("role", ["administrator", "supervisor"])
def test_administrators_and_supervisors_always_need_the_second_factor(
    laval: Municipality, password_only_client: Callable[..., Client], role: str
) -> None:
    set_all_staff_second_factor(laval, required=False)
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    client = password_only_client(laval, role, department=department)

    response = client.get("/personnel/files/")

    assert response.status_code == 302
    assert response.url.startswith("/comptes/2fa/totp/activate/")


def test_agents_need_the_second_factor_while_the_town_requires_it_of_all_staff(
    laval: Municipality, password_only_client: Callable[..., Client]
) -> None:
    required = password_only_client(laval, "agent")
    assert required.get("/personnel/").url.startswith("/comptes/2fa/totp/activate/")

    set_all_staff_second_factor(laval, required=False)
    allowed = password_only_client(laval, "agent")

    assert allowed.get("/personnel/").status_code == 200


def test_the_town_setting_is_on_for_a_new_town(laval: Municipality, levis: Municipality) -> None:
    for town in (laval, levis):
        with schema_context(town.schema_name):
            from crm.selectors import crm_settings

            assert crm_settings().staff_second_factor_required is True


def test_each_role_sees_only_its_sections(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    with schema_context(laval.schema_name):
        department = DepartmentFactory()
    agent = desk_client("agent")
    staff = desk_client("department", department=department)
    supervisor = desk_client("supervisor", department=department)
    administrator = desk_client("administrator")

    assert agent.get("/personnel/catalogue/").status_code == 403
    assert agent.get("/personnel/tableaux-de-bord/").status_code == 403
    assert staff.get("/personnel/tableaux-de-bord/").status_code == 403
    assert staff.get("/personnel/files/").status_code == 200
    assert supervisor.get("/personnel/tableaux-de-bord/").status_code == 200
    assert supervisor.get("/personnel/catalogue/").status_code == 403
    assert administrator.get("/personnel/catalogue/").status_code == 200
    navigation = agent.get("/personnel/files/").text
    assert "/personnel/catalogue/" not in navigation
    assert "/personnel/banque-information/" in navigation


def test_a_session_of_one_town_opens_nothing_in_another(
    levis: Municipality, desk_client: Callable[..., Client]
) -> None:
    laval_agent = desk_client("agent")

    laval_agent.defaults["HTTP_HOST"] = host_of(levis)
    response = laval_agent.get("/personnel/")

    assert response.status_code == 302
    assert response.url.startswith("/comptes/login/")
