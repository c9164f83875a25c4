"""Security headers on every kind of answer: a town's pages, the base domain's, the API, the
admin, the API documentation and the error pages answered outside a view; and HTTPS (redirect,
HSTS) as production turns it on."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from shared_config.security_headers import permissions_policy_header
from tenants.models import Municipality
from tenants.services import municipality_set_status
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "geolocation=(self), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
)
NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def policy_of(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: sources}, in any order."""
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {directive[0]: directive[1:] for directive in directives if directive}


def assert_security_headers(response) -> None:
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy-Report-Only" not in response
    # Plain HTTP (the test client): no HSTS, which browsers only take over HTTPS anyway.
    assert "Strict-Transport-Security" not in response


def assert_nothing_inline(html: str) -> None:
    """No style attribute, and no <style> or executable <script> without the page's nonce."""
    assert not re.search(r"<[^>]+\sstyle=", html), "style attribute"
    for tag, attributes in re.findall(r"<(style|script)\b([^>]*)>", html):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        assert "nonce=" in attributes, f"inline <{tag}{attributes}> without a nonce"


def test_a_towns_page_carries_the_policy_with_the_nonce_of_its_colour(client_for, laval):
    client = client_for(laval)

    first, second = client.get("/"), client.get("/")

    policy = policy_of(first)
    nonce = NONCE.fullmatch(policy["style-src"][1]).group(1)  # type: ignore[union-attr]
    assert policy == POLICY | {"style-src": ["'self'", f"'nonce-{nonce}'"]}
    assert (
        f'<style nonce="{nonce}">:root {{ --couleur-principale: #00558c; }}</style>' in first.text
    )
    assert_nothing_inline(first.text)
    assert_security_headers(first)
    assert policy_of(second)["style-src"] != policy["style-src"]  # a nonce per response


def test_the_base_domains_pages_carry_the_policy(platform_client):
    for path in ("/", "/en/", "/comptes/login/"):
        response = platform_client.get(path)

        assert response.status_code == 200
        # No town, no colour of its own: no inline style, so no nonce in the policy.
        assert policy_of(response) == POLICY
        assert_nothing_inline(response.text)
        assert_security_headers(response)


def test_the_api_and_the_health_probes_carry_the_headers(client_for, laval):
    for path in ("/api/v1/services/", "/open311/v2/services.json", "/healthz", "/readyz"):
        response = client_for(laval).get(path)

        assert response.status_code == 200, path
        assert policy_of(response) == POLICY
        assert_security_headers(response)


def test_the_admin_of_a_town_carries_the_policy(laval, staff_client):
    client = staff_client(laval, "superuser", email="admin@laval.qc.ca")

    for path in ("/admin/", "/admin/crm/servicetype/", "/admin/crm/servicetype/add/"):
        response = client.get(path)

        assert response.status_code == 200, path
        assert policy_of(response) == POLICY
        assert_nothing_inline(response.text)
        assert_security_headers(response)


def test_the_api_documentation_widens_the_policy_for_redoc_alone(client_for, laval):
    response = client_for(laval).get("/api/docs/")

    policy = policy_of(response)
    nonce = NONCE.fullmatch(policy["style-src"][1]).group(1)  # type: ignore[union-attr]
    assert policy == POLICY | {
        "style-src": [
            "'self'",
            f"'nonce-{nonce}'",
            "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ],
        "worker-src": ["blob:"],
    }
    # Redoc is started by a file, which hands it the nonce for the styles it injects.
    assert f'<script src="/static/relais/js/redoc.js" nonce="{nonce}"></script>' in response.text
    assert_nothing_inline(response.text)
    assert_security_headers(response)


def test_errors_answered_outside_a_view_carry_the_policy_and_nothing_inline(
    client_for, laval, django_capture_on_commit_callbacks
):
    unknown_host = client_for("inconnue.localhost").get("/")
    not_found = client_for(laval).get("/page-qui-n-existe-pas/")
    refused = client_for(laval).get("/?q=%00")
    with override_settings(ROOT_URLCONF="tests.shared_config.urls_failing"):
        server_error = Client(HTTP_HOST=host_of(laval), raise_request_exception=False).get("/panne")
    with django_capture_on_commit_callbacks(execute=True):
        municipality_set_status(municipality=laval, status=Municipality.Status.SUSPENDED)
    suspended = client_for(laval).get("/")

    for response, status in (
        (unknown_host, 404),
        (not_found, 404),
        (refused, 400),
        (server_error, 500),
        (suspended, 503),
    ):
        assert response.status_code == status
        policy = policy_of(response)
        assert policy == POLICY | {"style-src": policy["style-src"]}
        assert policy["style-src"][0] == "'self'"
        assert_nothing_inline(response.content.decode())
        assert_security_headers(response)
    # Rendered without a request, hence without a nonce: Relais's colour, not the town's.
    for response in (server_error, suspended):
        assert policy_of(response)["style-src"] == ["'self'"]
        assert "#00558c" not in response.content.decode()


def test_a_form_refused_by_the_csrf_check_gets_relais_page_not_djangos(laval):
    client = Client(HTTP_HOST=host_of(laval), enforce_csrf_checks=True)

    response = client.post("/comptes/login/", {"login": "a@b.ca", "password": "x"})

    assert response.status_code == 403
    assert "<h1>Formulaire refusé</h1>" in response.text
    assert "--couleur-principale: #00558c" in response.text  # the town's layout
    assert_nothing_inline(response.text)  # Django's own page has an inline <style>
    assert_security_headers(response)


@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True
)
def test_with_https_on_plain_http_is_redirected_except_for_the_probes(client_for, laval):
    client = client_for(laval)

    page = client.get("/en/?q=1")
    secure_page = client.get("/en/", secure=True)

    assert page.status_code == 301
    assert page["Location"] == "https://laval.localhost/en/?q=1"
    assert secure_page.status_code == 200
    assert secure_page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    for probe in ("/healthz", "/readyz"):
        response = client.get(probe)
        assert response.status_code == 200, probe
        assert "Strict-Transport-Security" not in response
    assert client.get("/healthz/extra").status_code == 301  # the probes' paths alone


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31_536_000,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_behind_a_proxy_its_forwarded_protocol_decides(client_for, laval):
    client = client_for(laval)

    forwarded_https = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    forwarded_http = client.get("/", HTTP_X_FORWARDED_PROTO="http")

    assert forwarded_https.status_code == 200
    assert forwarded_https["Strict-Transport-Security"].startswith("max-age=31536000")
    assert forwarded_http.status_code == 301


def test_the_permissions_policy_header_lists_each_feature_with_its_origins():
    header = permissions_policy_header(
        {"camera": [], "geolocation": ["self", '"https://tuiles.exemple.ca"']}
    )

    assert header == 'camera=(), geolocation=(self "https://tuiles.exemple.ca")'
