"""Saved views: a person's own filters and sort under a name, seen by nobody else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import SavedView
from tenants.models import Municipality

pytestmark = pytest.mark.django_db

QUEUE = "/personnel/files/"
SAVE = "/personnel/files/vues/"


def _token(client: Client, query: str = "") -> str:
    page = client.get(QUEUE + (f"?{query}" if query else ""))
    return (
        page.text.split('action="/personnel/files/vues/"')[1]
        .split('name="submission" value="')[1]
        .split('"')[0]
    )


def _views(town: Municipality) -> list[tuple[int, str, str]]:
    with schema_context(town.schema_name):
        return list(SavedView.objects.order_by("pk").values_list("user_id", "name", "query"))


def test_a_view_saves_the_filters_and_sort_and_opens_them_again(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("agent")
    query = "status=all&priority=urgent&overdue=on&sort=-number&page=3&citizen=roy"

    response = client.post(
        SAVE, {"submission": _token(client), "name": "  Urgences   en retard ", "query": query}
    )

    kept = "status=all&priority=urgent&overdue=on&sort=-number"  # nothing but the filters
    assert response.status_code == 302
    assert response.url == f"{QUEUE}?{kept}"
    assert _views(laval) == [(client.user.pk, "Urgences en retard", kept)]
    page = client.get(response.url)
    assert "Vue « Urgences en retard » enregistrée." in page.text
    assert f'<a href="{QUEUE}?{kept.replace("&", "&amp;")}" aria-current="page">' in page.text


def test_nobody_else_sees_or_deletes_my_views_in_my_town_or_another(
    laval: Municipality, levis: Municipality, desk_client: Callable[..., Client]
) -> None:
    mine = desk_client("agent")
    colleague = desk_client("agent")
    levis_agent = desk_client("agent", town=levis)
    mine.post(SAVE, {"submission": _token(mine), "name": "Vue privée", "query": "status=new"})
    (view_pk,) = _pks(laval)

    refused = colleague.post(
        f"/personnel/files/vues/{view_pk}/supprimer/", {"submission": "jeton-du-collegue"}
    )

    assert "Vue privée" in mine.get(QUEUE).text
    assert "Vue privée" not in colleague.get(QUEUE).text
    assert "Vue privée" not in levis_agent.get(QUEUE).text
    assert refused.status_code == 404
    assert [name for _user, name, _query in _views(laval)] == ["Vue privée"]
    assert _views(levis) == []


def _pks(town: Municipality) -> list[int]:
    with schema_context(town.schema_name):
        return list(SavedView.objects.values_list("pk", flat=True))


def test_deleting_my_view_removes_it(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("supervisor", department=_roads(laval))
    client.post(SAVE, {"submission": _token(client), "name": "À jeter", "query": ""})
    (view_pk,) = _pks(laval)
    page = client.get(QUEUE).text
    token = (
        page.split(f'action="/personnel/files/vues/{view_pk}/supprimer/"')[1]
        .split('name="submission" value="')[1]
        .split('"')[0]
    )

    response = client.post(f"/personnel/files/vues/{view_pk}/supprimer/", {"submission": token})

    assert response.status_code == 302
    assert _views(laval) == []
    assert "Vue supprimée." in client.get(QUEUE).text


def _roads(town: Municipality):
    from tests.factories import DepartmentFactory

    with schema_context(town.schema_name):
        return DepartmentFactory(code="voirie")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Ce champ est obligatoire."),
        ("   ", "Ce champ est obligatoire."),
        ("x" * 81, "Assurez-vous que cette valeur comporte au plus 80 caractères"),
    ],
)
def test_a_view_without_a_proper_name_is_not_saved(
    laval: Municipality, desk_client: Callable[..., Client], name: str, message: str
) -> None:
    client = desk_client("agent")

    response = client.post(SAVE, {"submission": _token(client), "name": name, "query": ""})

    assert response.status_code == 400
    assert message in response.text
    assert 'href="#vue-name"' in response.text
    assert 'aria-describedby="vue-name_error"' in response.text
    assert _views(laval) == []


def test_a_second_view_of_the_same_name_is_refused(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("agent")
    client.post(SAVE, {"submission": _token(client), "name": "Matin", "query": "status=new"})

    response = client.post(
        SAVE, {"submission": _token(client), "name": "Matin", "query": "status=closed"}
    )

    assert response.status_code == 409
    assert "Vous avez déjà une vue nommée « Matin »." in response.text
    assert [query for _user, _name, query in _views(laval)] == ["status=new"]


def test_saving_twice_with_one_submission_saves_once(
    laval: Municipality, desk_client: Callable[..., Client]
) -> None:
    client = desk_client("agent")
    data = {"submission": _token(client), "name": "Une fois", "query": "status=new"}

    first = client.post(SAVE, data)
    second = client.post(SAVE, data)

    assert first.status_code == second.status_code == 302
    assert len(_views(laval)) == 1
