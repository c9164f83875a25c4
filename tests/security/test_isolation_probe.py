"""Isolation probe over every route: Laval's credentials and object ids, tried on Lévis and on
the platform's base domain, open nothing and show nothing of Laval.

Every route of both URL configurations is found by walking them (tests/security/routes.py); a
route that is not classified there fails the probe. Each is called on Lévis's host and on the
base domain, with GET and POST, carrying one of Laval's credentials at a time: its
administrator's session (signed in with a second factor), a write API key, and a citizen's app
token; every identifier in the path is one of Laval's (a request number, a citizen id, a
service code, a tracking token, an account's reset token...). The answers must never show a
text of Laval (each carries MARK), never be a server error, and on routes that need an
account, always refuse (401, 403, 404, 405, or a redirect to a sign-in); and nothing may be
written in Lévis or on the platform.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import int_to_base36, urlsafe_base64_encode
from django_tenants.utils import schema_context

from tests.conftest import BASE_DOMAIN, host_of
from tests.security.conftest import MARK, World, app_token, session_of
from tests.security.routes import PLATFORM_URLCONF, TOWN_URLCONF, Access, Route, all_routes

pytestmark = pytest.mark.django_db

# 409: allauth's headless API, asked for a flow that is not under way.
REFUSALS = {401, 403, 404, 405, 409, 410}
# What a write of each API would accept from Laval's own callers (fields unknown to an
# endpoint are ignored): on another host it must still be refused.
WRITE_BODY = json.dumps(
    {
        "service_code": "nid-sonde",
        "description": "Sonde",
        "address": "3, rue A",
        "status": "in_progress",
        "department": "travaux-sonde",
        "message": "Vu.",
        "email": "nouvelle@exemple.qc.ca",
        "channel": "phone",
        "summary": "Appel",
        "duration_seconds": 30,
        "notify_by_sms": True,
    }
)
SIGN_IN_PAGES = ("/comptes/login/", "/admin/login/", "/comptes/2fa/", "/comptes/reauthenticate/")
API_PREFIXES = ("/api/", "/open311/", "/_allauth/")
# Admin URL segment → Laval's object of that model (the others get id 1).
ADMIN_OBJECTS = {
    "crm/citizen": "citizen",
    "crm/interaction": "interaction",
    "crm/privacyincident": "incident",
    "crm/department": "department",
    "crm/servicetype": "service_type",
}


@dataclass(frozen=True)
class Credential:
    name: str
    cookies: dict[str, str]
    headers: dict[str, str]


def _values(route: Route, world: World) -> dict[str, str]:
    """Laval's identifiers for the route's parameters."""
    admin = world.users["administrator"]
    object_id = "1"
    for segment, key in ADMIN_OBJECTS.items():
        if f"admin/{segment}/" in route.text:
            object_id = world.ids[key]
    if "admin/crm/servicerequest/" in route.text:
        object_id = str(world.roads_request.pk)
    if "admin/accounts/user/" in route.text:
        object_id = str(admin.pk)
    with schema_context("laval"):
        citizen_type = str(ContentType.objects.get(app_label="crm", model="citizen").pk)
        reset_token = default_token_generator.make_token(admin)
    return {
        "format": "json",
        "code": "nid-sonde",
        "service_code": "nid-sonde",
        "number": world.roads_request.number,
        "service_request_id": world.roads_request.number,
        "token": reset_token
        if route.name == "password_reset_confirm"
        else world.roads_request.tracking_token,
        "uidb64": urlsafe_base64_encode(force_bytes(admin.pk)),
        "uidb36": int_to_base36(admin.pk),
        "key": "set-password",
        "pk": world.ids["citizen"],
        "id": str(admin.pk),
        "object_id": object_id,
        "content_type_id": citizen_type,
        "app_label": "crm",
        "url": "crm/citizen/inconnu/",
        "slug": "laval",
        "step": "identite",
        "other": world.roads_request.number,
        "question": "1",
        "department": "travaux-sonde",
        "month": "2026-11",
    }


def _routes() -> Iterator[Route]:
    yield from all_routes(TOWN_URLCONF)
    yield from all_routes(PLATFORM_URLCONF)


def test_every_route_is_classified():
    unclassified = sorted({route.name for route in _routes() if route.access() is None})

    assert unclassified == [], "classify these routes in tests/security/routes.py"


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _snapshot() -> dict[str, int]:
    """Row counts of every table of Lévis and of the platform (the probe must write none)."""
    counts = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('levis', 'public') AND table_type = 'BASE TABLE' "
            "AND table_name NOT IN ('relais_cache', 'django_session')"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')  # names from the catalog
            counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def _refused(response, method: str) -> bool:
    if response.status_code in REFUSALS or response.status_code == 429:
        return True
    if method == "post" and response.status_code == 400:
        return True  # a body refused before anything was read or written
    if response.status_code in (301, 302, 303, 307, 308):
        return response["Location"].startswith(SIGN_IN_PAGES) or "/login" in response["Location"]
    return False


def test_lavals_credentials_and_ids_open_nothing_elsewhere(laval, levis, laval_world):
    citizen_session = session_of(laval, laval_world.users["citizen"])
    admin_session = session_of(laval, laval_world.users["administrator"])
    credentials = [
        Credential("admin session", {"sessionid": admin_session.cookies["sessionid"].value}, {}),
        Credential(
            "citizen session", {"sessionid": citizen_session.cookies["sessionid"].value}, {}
        ),
        Credential("API key", {}, {"HTTP_AUTHORIZATION": f"Api-Key {laval_world.api_key}"}),
        Credential(
            "app token",
            {},
            {"HTTP_X_SESSION_TOKEN": app_token(laval, laval_world.users["citizen"].email)},
        ),
    ]
    # Laval's own host opens with these credentials: the probe would prove nothing otherwise.
    laval_admin = Client(HTTP_HOST=host_of(laval))
    laval_admin.cookies["sessionid"] = credentials[0].cookies["sessionid"]
    assert (
        MARK.encode()
        in laval_admin.get(
            f"/admin/crm/servicerequest/{laval_world.roads_request.pk}/change/"
        ).content
    )
    laval_key = Client(HTTP_HOST=host_of(laval), **credentials[2].headers)
    assert (
        MARK.encode()
        in laval_key.get(f"/api/v1/requests/{laval_world.roads_request.number}/").content
    )

    before = _snapshot()
    problems: list[str] = []
    calls = 0
    # One client per host and credential (a client loads the middleware on its first request,
    # WhiteNoise's scan of the static files included); cookies are set again before each call.
    clients = {
        (host, credential.name): Client(HTTP_HOST=host, raise_request_exception=False)
        for host in (host_of(levis), BASE_DOMAIN)
        for credential in credentials
    }
    for route in _routes():
        access = route.access()
        path = route.path(_values(route, laval_world))
        for host in (host_of(levis), BASE_DOMAIN):
            for credential in credentials:
                if not credential.cookies and not path.startswith(API_PREFIXES):
                    continue  # headers of the APIs mean nothing to a page
                for method in ("get", "post"):
                    client = clients[host, credential.name]
                    client.cookies = SimpleCookie()
                    for name, value in credential.cookies.items():
                        client.cookies[name] = value
                    if method == "get":
                        response = client.get(path, **credential.headers)
                    elif path.startswith(API_PREFIXES):
                        response = client.post(
                            path, WRITE_BODY, content_type="application/json", **credential.headers
                        )
                    else:
                        response = client.post(path, {}, **credential.headers)
                    calls += 1
                    where = f"{method.upper()} {host}{path} [{route.name}] as {credential.name}"
                    if response.status_code >= 500:
                        problems.append(f"{where}: {response.status_code}")
                    if MARK.lower().encode() in _body(response).lower() or MARK in response.get(
                        "Location", ""
                    ):
                        problems.append(f"{where}: shows Laval's data")
                    if access is not Access.PUBLIC and not _refused(response, method):
                        problems.append(f"{where}: {response.status_code}, not refused")
    after = _snapshot()

    assert not problems, "\n".join(problems)
    assert {k: (before[k], v) for k, v in after.items() if before.get(k) != v} == {}
    assert calls > 1500  # every route, both hosts, every credential, both methods
