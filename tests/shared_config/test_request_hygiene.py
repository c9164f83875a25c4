"""Input no view can use is refused before any view or query, in the client's own format.

Regression tests of [trust] finding 4: the browsable API's 500s, NUL bytes reaching
PostgreSQL, deeply nested JSON, oversized bodies and too many fields answered with Django's
bare HTML page, plus the XML entity payloads. Every refusal changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from crm.models import Citizen, RequestEvent, ServiceRequest
from tenants.accounts.models import User
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + "]><service_code>&lol9;</service_code>"
)
DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def laval_api(laval, catalog, api_key, key_client):
    """A client of Laval's API (with the shared catalog) sending its write key, that gets the
    error pages instead of the exceptions."""
    return key_client(laval, api_key, raise_request_exception=False)


def _written(town) -> tuple[int, int, int, int]:
    with schema_context(town.schema_name):
        return (
            ServiceRequest.objects.count(),
            RequestEvent.objects.count(),
            Citizen.objects.count(),
            User.objects.count(),
        )


def _api_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code, response.json()
    assert response.json()["error"]["message"]


def _open311_error(response, status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body[0]["code"] == status
    assert body[0]["description"]


def _page_error(response, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in response.text


@pytest.mark.parametrize("path", ["/api/v1/services/", "/api/v1/faq/?q=a", "/api/v1/requests/"])
def test_a_browser_opening_the_api_gets_json_never_a_500(laval_api, path):
    html = laval_api.get(path, HTTP_ACCEPT="text/html")
    as_browser = laval_api.get(path, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    browsable = laval_api.get(path + ("&" if "?" in path else "?") + "format=api")

    _api_error(html, 406, "not_acceptable")
    assert as_browser.status_code == 200
    assert as_browser["Content-Type"] == "application/json"
    _api_error(browsable, 404, "not_found")


CASES: list[tuple[str, Callable[[Client], object], Callable[..., None], tuple]] = [
    ("REST path", lambda c: c.get("/api/v1/services/a%00/"), _api_error, (400, "nul_character")),
    (
        "REST query",
        lambda c: c.get("/api/v1/requests/?status=new%00"),
        _api_error,
        (400, "nul_character"),
    ),
    (
        "REST JSON body",
        lambda c: c.post(
            "/api/v1/requests/",
            json.dumps({"service_code": "nid-de-poule", "description": "a\u0000b"}),
            content_type="application/json",
        ),
        _api_error,
        (400, "nul_character"),
    ),
    (
        "REST JSON key",
        lambda c: c.post(
            "/api/v1/requests/",
            json.dumps({"service_code": "nid-de-poule", "attributes": {"tai\u0000lle": "grand"}}),
            content_type="application/json",
        ),
        _api_error,
        (400, "nul_character"),
    ),
    (
        "REST form body",
        lambda c: c.post("/api/v1/requests/", {"service_code": "nid\x00"}),
        _api_error,
        (400, "nul_character"),
    ),
    (
        "REST header",
        lambda c: c.get("/api/v1/services/", HTTP_X_REQUESTED_WITH="a\x00b"),
        _api_error,
        (400, "nul_character"),
    ),
    (
        "Open311 form",
        lambda c: c.post("/open311/v2/requests.json", {"service_code": "nid-de-poule\x00"}),
        _open311_error,
        (400,),
    ),
    ("Open311 path", lambda c: c.get("/open311/v2/services/a%00.json"), _open311_error, (400,)),
    ("page query", lambda c: c.get("/?q=%00"), _page_error, (400,)),
    (
        "sign-in form",
        lambda c: c.post("/comptes/login/", {"login": "a\x00@b.ca", "password": "x"}),
        _page_error,
        (400,),
    ),
    (
        "headless sign-up",
        lambda c: c.post(
            "/_allauth/app/v1/auth/signup",
            json.dumps({"email": "a\u0000@b.ca", "password": "Citoyen-tres-solide-2026"}),
            content_type="application/json",
        ),
        lambda r, status: r.status_code == status and r.json()["errors"][0]["message"],
        (400,),
    ),
]


@pytest.mark.parametrize(("label", "send", "check", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_nul_character_is_refused_before_any_query(
    laval_api, laval, levis, label, send, check, expected
):
    before = _written(laval), _written(levis)

    response = send(laval_api)

    check(response, *expected)
    assert (_written(laval), _written(levis)) == before
    assert mail.outbox == []


def test_a_nul_in_a_cookie_is_refused(laval):
    client = Client(HTTP_HOST=host_of(laval))

    _page_error(client.get("/", HTTP_COOKIE="sessionid=abc\x00def"), 400)


def test_the_admin_searches_refuse_a_nul(laval, staff_client):
    client = staff_client(laval, "superuser")
    client.raise_request_exception = False

    for path in ("/admin/crm/citizen/?q=%00", "/admin/crm/servicerequest/?q=a%00"):
        _page_error(client.get(path), 400)


def test_english_paths_are_refused_in_english(laval):
    response = Client(HTTP_HOST=host_of(laval)).get("/en/?q=%00")

    assert response.status_code == 400
    assert "Bad request" in response.text


def test_deeply_nested_json_is_refused_everywhere_json_is_read(laval_api, laval):
    before = _written(laval)

    rest = laval_api.post("/api/v1/requests/", DEEP_JSON, content_type="application/json")
    headless = Client(HTTP_HOST=host_of(laval)).post(
        "/_allauth/app/v1/auth/signup", DEEP_JSON, content_type="application/json"
    )
    nested_value = laval_api.post(
        "/api/v1/requests/",
        '{"service_code": "nid-de-poule", "attributes": ' + DEEP_JSON + "}",
        content_type="application/json",
    )

    _api_error(rest, 400, "too_deep")
    _api_error(nested_value, 400, "too_deep")
    assert headless.status_code == 400
    assert headless.json()["errors"][0]["code"] == "too_deep"
    assert _written(laval) == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/x-json", ""]
)
def test_the_headless_api_reads_every_body_as_json_and_so_does_the_check(laval, content_type):
    """allauth's headless API parses any body as JSON, whatever its declared type."""
    client = Client(HTTP_HOST=host_of(laval))

    deep = client.post("/_allauth/app/v1/auth/login", DEEP_JSON, content_type=content_type)
    nul = client.post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": "a\u0000@b.ca", "password": "x"}),
        content_type=content_type,
    )

    assert (deep.status_code, deep.json()["errors"][0]["code"]) == (400, "too_deep")
    assert (nul.status_code, nul.json()["errors"][0]["code"]) == (400, "nul_character")


def test_a_large_form_to_the_headless_api_is_a_413_not_a_500(laval):
    response = Client(HTTP_HOST=host_of(laval)).post(
        "/_allauth/app/v1/auth/login", {"fichier": SimpleUploadedFile("a.bin", b"x" * 3_000_000)}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"


def test_an_oversized_body_is_a_413_in_the_api_shape(laval_api, laval):
    before = _written(laval)
    huge = json.dumps({"service_code": "nid-de-poule", "description": "x" * 3_000_000})

    rest = laval_api.post("/api/v1/requests/", huge, content_type="application/json")
    open311 = laval_api.post(
        "/open311/v2/requests.json",
        "description=" + "x" * 3_000_000,
        content_type="application/x-www-form-urlencoded",
    )

    _api_error(rest, 413, "too_large")
    _open311_error(open311, 413)
    assert _written(laval) == before


def test_too_many_fields_are_refused_in_each_format(laval_api, laval):
    many = "&".join(f"champ{n}=1" for n in range(1500))
    form = "application/x-www-form-urlencoded"

    _api_error(laval_api.post("/api/v1/requests/", many, content_type=form), 400, "too_many_fields")
    _open311_error(laval_api.post("/open311/v2/requests.json", many, content_type=form), 400)
    xml = laval_api.post("/open311/v2/requests.xml", many, content_type=form)
    assert xml.status_code == 400
    assert xml["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>400</code>" in xml.content
    _page_error(laval_api.post("/comptes/login/", many, content_type=form), 400)


def test_xml_entities_are_never_expanded(laval_api, laval):
    before = _written(laval)
    started = time.monotonic()

    open311 = laval_api.post(
        "/open311/v2/requests.xml", BILLION_LAUGHS, content_type="application/xml"
    )
    rest = laval_api.post("/api/v1/requests/", BILLION_LAUGHS, content_type="application/xml")

    assert time.monotonic() - started < 5  # nothing was expanded
    assert open311.status_code == 400
    assert b"<errors>" in open311.content
    _api_error(rest, 415, "unsupported_media_type")
    assert _written(laval) == before


@override_settings(ROOT_URLCONF="tests.shared_config.urls_failing")
def test_a_crash_answers_in_the_interface_format(laval):
    client = Client(HTTP_HOST=host_of(laval), raise_request_exception=False)

    api = client.get("/api/v1/panne/")
    open311 = client.get("/open311/v2/panne.xml")
    page = client.get("/panne")

    _api_error(api, 500, "server_error")
    assert open311.status_code == 500
    assert open311["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>500</code>" in open311.content
    assert page.status_code == 500
    assert "Une erreur est survenue" in page.text


@override_settings(ROOT_URLCONF="tests.shared_config.urls_failing")
def test_a_database_away_for_a_moment_is_a_503_to_retry(laval):
    client = Client(HTTP_HOST=host_of(laval), raise_request_exception=False)

    page = client.get("/base-absente")
    api = client.get("/api/v1/base-absente/")

    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert "Service momentanément indisponible" in page.text
    _api_error(api, 503, "service_unavailable")
    assert api["Retry-After"] == "5"


def test_a_missing_csrf_token_answers_in_the_clients_format(laval):
    client = Client(HTTP_HOST=host_of(laval), enforce_csrf_checks=True)

    headless = client.post(
        "/_allauth/browser/v1/auth/login",
        json.dumps({"email": "a@b.ca", "password": "x"}),
        content_type="application/json",
    )
    page = client.post("/comptes/login/", {"login": "a@b.ca", "password": "x"})

    assert headless.status_code == 403
    assert headless.json()["errors"][0]["code"] == "csrf_failed"
    assert page.status_code == 403
    assert page["Content-Type"].startswith("text/html")
