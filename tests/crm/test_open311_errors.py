"""Open311 GeoReport v2 (/open311/v2/), refusals: unknown services, formats, paths and methods,
keys, bad input, jurisdictions and throttling all get Open311's error list (JSON or XML), and a
refused write changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle
from crm.models import ServiceRequest
from crm.services import (
    api_key_revoke,
)
from tenants import routing
from tenants.models import Domain, Municipality
from tests.crm.open311 import (
    BASE,
    LAT,
    LONG,
    Open311Catalog,
    counts,
    errors,
    valid_post,
    xml_errors,
)
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "status"),
    [("interne", 404), ("retire", 404), ("inconnu", 404), ("%FF", 404), ("a%00b", 400)],
)
def test_unknown_private_or_inactive_service_is_404(
    open311_catalog: Open311Catalog, laval_client: Client, code: str, status: int
) -> None:
    """A private, inactive or unknown service code is 404 (a NUL byte 400), in JSON and XML."""
    response = laval_client.get(f"{BASE}/services/{code}.json")
    as_xml = laval_client.get(f"{BASE}/services/{code}.xml")

    assert response.status_code == status  # a NUL byte is bad input, the rest unknown
    errors(response)
    assert as_xml.status_code == status
    xml_errors(as_xml)


def test_unknown_service_code_says_so_in_french(
    open311_catalog: Open311Catalog, laval_client: Client
) -> None:
    response = laval_client.get(f"{BASE}/services/inconnu.json")
    assert response.status_code == 404
    assert errors(response) == [{"code": 404, "description": "service_code inconnu : « inconnu »."}]


@pytest.mark.parametrize(
    "path",
    [
        "services.csv",
        "services.JSONP",
        "services",
        "requests.html",
        "nothing.json",
        "services/nid-de-poule/extra.json",
        "tokens/abc.yaml",
    ],
)
def test_unknown_formats_and_paths_are_404_in_open311_format(
    open311_catalog: Open311Catalog, laval_client: Client, path: str
) -> None:
    response = laval_client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    errors(response)


def test_unknown_path_ending_in_xml_answers_in_xml(laval_client: Client) -> None:
    response = laval_client.get(f"{BASE}/nothing/here.xml")
    assert response.status_code == 404
    xml_errors(response)


def test_wrong_method_is_refused_in_open311_format(laval_client: Client) -> None:
    response = laval_client.post(f"{BASE}/services.json")
    assert response.status_code == 405
    errors(response)


@pytest.mark.parametrize(
    ("key_kind", "message"),
    [
        ("none", "Une clé d'API (api_key) est requise pour créer une requête."),
        ("unknown", "Clé d'API (api_key) inconnue ou révoquée."),
        ("revoked", "Clé d'API (api_key) inconnue ou révoquée."),
        ("read", "Cette clé d'API est en lecture seule : elle ne peut pas créer de requête."),
    ],
)
def test_post_needs_an_active_write_key(
    open311_catalog: Open311Catalog,
    laval: Municipality,
    laval_client: Client,
    key_kind: str,
    message: str,
) -> None:
    """No key, an unknown, revoked or read-only one: 403 with the reason, and nothing written."""
    key = ""
    if key_kind == "unknown":
        key = "rls_pas-une-vraie-cle"
    elif key_kind == "read":
        with schema_context(laval.schema_name):
            key = ApiKeyFactory(scope="read", name="Tableau de bord").secret
    elif key_kind == "revoked":
        with schema_context(laval.schema_name):
            revoked = ApiKeyFactory(name="Ancienne application")
            api_key_revoke(actor=None, api_key=revoked)
            key = revoked.secret
    before = counts(laval)

    response = laval_client.post(f"{BASE}/requests.json", valid_post(key))
    as_xml = laval_client.post(f"{BASE}/requests.xml", valid_post(key))

    assert response.status_code == 403
    assert errors(response) == [{"code": 403, "description": message}]
    assert as_xml.status_code == 403
    assert xml_errors(as_xml) == [("403", message)]
    assert counts(laval) == before


def test_a_laval_key_is_useless_on_levis(
    open311_catalog: Open311Catalog, levis: Municipality, levis_client: Client, api_key: str
) -> None:
    """Laval's key, in the form or the header, is refused on Lévis and writes nothing there."""
    key = api_key
    with schema_context(levis.schema_name):
        before = ServiceRequest.objects.count()

    response = levis_client.post(f"{BASE}/requests.json", valid_post(key))
    header_key = levis_client.post(
        f"{BASE}/requests.json", valid_post(""), HTTP_AUTHORIZATION=f"Api-Key {key}"
    )

    assert response.status_code == 403
    assert header_key.status_code == 403
    errors(response)
    with schema_context(levis.schema_name):
        assert ServiceRequest.objects.count() == before


def test_gets_need_no_key_but_a_bad_one_is_refused(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    """Reading needs no key; a read key is accepted; an unknown key is 403."""
    with schema_context(laval.schema_name):
        read_key = ApiKeyFactory(scope="read", name="Lecture").secret

    assert laval_client.get(f"{BASE}/requests.json").status_code == 200
    assert laval_client.get(f"{BASE}/requests.json?api_key={read_key}").status_code == 200
    refused = laval_client.get(f"{BASE}/requests.json?api_key=rls_inconnue")
    assert refused.status_code == 403
    errors(refused)


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"service_code": None}, 400, "service_code est requis"),
        ({"service_code": "inconnu"}, 404, "service_code inconnu"),
        ({"service_code": "interne"}, 404, "service_code inconnu"),
        ({"service_code": "retire"}, 404, "service_code inconnu"),
        ({"lat": None, "long": None}, 400, "Donnez un lieu"),
        ({"long": None}, 400, "latitude et la longitude"),
        ({"lat": "abc"}, 400, "hors du Québec"),
        ({"lat": "NaN"}, 400, "hors du Québec"),
        ({"lat": "1e999999"}, 400, "hors du Québec"),
        ({"lat": LONG, "long": LAT}, 400, "hors du Québec"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"media_url": "pas une adresse"}, 400, "média"),
        ({"attribute[taille]": None}, 400, "obligatoire"),
        ({"attribute[taille]": "énorme"}, 400, "n'est pas un choix possible"),
        (  # refused after the citizen was found new: the new record is rolled back
            {"email": "neuve@exemple.qc.ca", "attribute[taille]": "énorme"},
            400,
            "n'est pas un choix possible",
        ),
        ({"attribute[taille]": ["petit", "grand"]}, 400, "Une seule valeur"),
        ({"attribute[couleur]": "rouge"}, 400, "couleur"),
        ({"attribute[profondeur]": "profond"}, 400, "nombre"),
        ({"attribute[voies][]": ["gauche", "haut"]}, 400, "haut"),
        ({"email": "pas-un-courriel"}, 400, "e-mail"),
        ({"phone": "123"}, 400, "10 chiffres"),
        ({"first_name": "x" * 200}, 400, "100"),
        ({"address_string": "x" * 301}, 400, "300"),
        ({"device_id": "x" * 201}, 400, "200"),
        ({"description": "nul\x00"}, 400, "caractère nul"),
        ({"jurisdiction_id": "levis.localhost"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_posts_are_refused_and_change_nothing(
    open311_catalog: Open311Catalog,
    laval: Municipality,
    laval_client: Client,
    api_key: str,
    change: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    data = valid_post(api_key, **change)
    data = {key: value for key, value in data.items() if value is not None}
    before = counts(laval)

    response = laval_client.post(f"{BASE}/requests.json", data)
    as_xml = laval_client.post(f"{BASE}/requests.xml", data)

    assert response.status_code == status, response.content
    (error,) = errors(response)
    assert fragment in error["description"]
    assert as_xml.status_code == status
    xml_errors(as_xml)
    assert counts(laval) == before


def test_a_json_broken_or_latin1_post_body_is_400_and_changes_nothing(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    before = counts(laval)
    as_json = laval_client.post(
        f"{BASE}/requests.json?api_key={api_key}",
        json.dumps(valid_post(api_key)),
        content_type="application/json",
    )
    broken = laval_client.post(
        f"{BASE}/requests.json?api_key={api_key}",
        b"--x\r\nnot multipart",
        content_type="multipart/form-data; boundary=zz",
    )
    latin1 = laval_client.post(
        f"{BASE}/requests.json",
        f"api_key={api_key}&service_code=nid-de-poule&description=caf%E9".encode(),
        content_type="application/x-www-form-urlencoded",
    )

    assert as_json.status_code == 400
    errors(as_json)
    assert broken.status_code == 400
    errors(broken)
    assert latin1.status_code == 400  # no location; the bad byte itself is no crash
    errors(latin1)
    assert counts(laval) == before


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z", "90 jours"),
        ("start_date=2026-05-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "précède"),
        ("start_date=2026-01-01", "W3C"),
        ("start_date=2026-01-01T00:00:00", "W3C"),
        ("end_date=hier", "W3C"),
        ("start_date=2026-13-45T00:00:00Z", "W3C"),
        ("start_date=9999-12-31T23:00:00Z", "hors des dates"),
        ("end_date=0001-01-01T00:00:00%2B05:00", "hors des dates"),
        ("status=pending", "Statut inconnu"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999", "page"),
        ("page_size=1001", "page_size"),
        ("page_size=-1", "page_size"),
        ("service_code=a%00b", "caractère nul"),
        ("service_request_id=" + ",".join(["1"] * 1001), "1000"),
        ("jurisdiction_id=levis.localhost", "jurisdiction_id"),
    ],
)
def test_bad_get_requests_are_400_or_404(
    open311_catalog: Open311Catalog, laval_client: Client, query: str, fragment: str
) -> None:
    """A bad date, window, status, page or id list is 400 naming it; a foreign jurisdiction 404."""
    response = laval_client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == (404 if "jurisdiction" in query else 400), response.content
    (error,) = errors(response)
    assert fragment in error["description"]
    xml_errors(laval_client.get(f"{BASE}/requests.xml?{query}"))


def test_jurisdiction_id_must_be_one_of_the_towns_domains(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    Domain.objects.create(tenant=laval, domain="311.laval.localhost", is_primary=False)
    routing.invalidate()

    for jurisdiction in ("laval.localhost", "LAVAL.localhost", "311.laval.localhost", ""):
        response = laval_client.get(f"{BASE}/services.json?jurisdiction_id={jurisdiction}")
        assert response.status_code == 200, jurisdiction
    for jurisdiction in ("levis.localhost", "laval.ca", "%FF"):
        response = laval_client.get(f"{BASE}/services.json?jurisdiction_id={jurisdiction}")
        assert response.status_code == 404
        assert "jurisdiction_id" in errors(response)[0]["description"]
        xml_errors(laval_client.get(f"{BASE}/requests.xml?jurisdiction_id={jurisdiction}"))


@pytest.mark.parametrize(
    "path",
    [
        "requests.json?lat=abc&long=%FF%FE",
        "requests.json?page=1%00",
        "requests.json?page_size=%FF",
        "requests.json?start_date=%FF",
        "requests.json?status=%00",
        "requests.json?service_request_id=" + "9" * 5000,
        "requests.json?extensions=%FF",
        "requests.json?jurisdiction_id=" + "x" * 5000,
        "requests/%00.json",
        "requests/" + "9" * 3000 + ".xml",
        "services/" + "a" * 3000 + ".json",
        "tokens/%FF%FE.xml",
        "services.json?api_key=%00",
        "services.json?api_key=" + "k" * 5000,
        "discovery.%FF",
        "%FF.json",
    ],
)
def test_garbage_in_a_path_or_query_gets_an_answer_never_a_crash(
    open311_catalog: Open311Catalog, laval_client: Client, path: str
) -> None:
    """Undecodable or huge paths and queries get 200 or an Open311 error list, never a 500."""
    response = laval_client.get(f"{BASE}/{path}")
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code != 200:
        body = response.content
        assert body.startswith((b"[", b"<?xml"))


def test_client_address_throttle_answers_429_with_retry_after(
    open311_catalog: Open311Catalog, laval_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "2/min"})

    statuses = [laval_client.get(f"{BASE}/services.json").status_code for _ in range(3)]
    refused = laval_client.get(f"{BASE}/services.xml")

    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert xml_errors(refused)[0][0] == "429"


def test_the_key_throttle_counts_each_key_apart(
    open311_catalog: Open311Catalog,
    laval: Municipality,
    laval_client: Client,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    key = api_key
    with schema_context(laval.schema_name):
        other = ApiKeyFactory(name="Autre intégrateur").secret

    statuses = [
        laval_client.post(f"{BASE}/requests.json", valid_post(key)).status_code for _ in range(3)
    ]
    with_other = laval_client.post(f"{BASE}/requests.json", valid_post(other))
    refused = laval_client.post(f"{BASE}/requests.json", valid_post(key))

    assert statuses == [201, 201, 429]
    assert with_other.status_code == 201
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    errors(refused)


def test_throttle_counters_are_per_town(
    open311_catalog: Open311Catalog,
    laval_client: Client,
    levis_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "1/min"})

    assert laval_client.get(f"{BASE}/services.json").status_code == 200
    assert laval_client.get(f"{BASE}/services.json").status_code == 429
    assert levis_client.get(f"{BASE}/services.json").status_code == 200
