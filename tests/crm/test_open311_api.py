"""Open311 GeoReport v2 (/open311/v2/): every resource in JSON and XML, on two towns."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle
from crm.models import Citizen, RequestEvent, ServiceRequest
from crm.services import (
    api_key_create,
    api_key_revoke,
    citizen_create,
    citizen_merge,
    request_add_note,
    request_change_status,
    request_create,
    request_merge,
)
from tenants import routing
from tenants.models import Domain, Municipality
from tests.conftest import data_queries
from tests.factories import (
    DepartmentFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
LAT, LONG = "45.5701", "-73.7012"
PERSONAL = ("camille.secret@exemple.qc.ca", "4505559876", "Camille", "Tremblay", "appareil-42")


def xml(response: Any) -> ElementTree.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314  (our own output)


def errors(response: Any) -> list[dict[str, Any]]:
    """The Open311 error list, checked against the HTTP status."""
    body = response.json()
    assert isinstance(body, list)
    assert body and all(set(item) == {"code", "description"} for item in body)
    assert body[0]["code"] == response.status_code
    assert body[0]["description"]
    return body


def xml_errors(response: Any) -> list[tuple[str, str]]:
    root = xml(response)
    assert root.tag == "errors"
    found = [(e.findtext("code") or "", e.findtext("description") or "") for e in root]
    assert found and found[0][0] == str(response.status_code) and found[0][1]
    return found


class Catalog:
    """Laval's catalog for these tests: one rich public type, one simple, one private, one
    inactive."""

    def __init__(self) -> None:
        self.department = DepartmentFactory(
            code="travaux", name_fr="Travaux publics", name_en="Public Works"
        )
        self.category = ServiceCategoryFactory(code="voirie", name_fr="Voirie", name_en="Roads")
        self.pothole = ServiceTypeFactory(
            code="nid-de-poule",
            name_fr="Nid-de-poule",
            name_en="Pothole",
            description_fr="Trou dans la chaussée.",
            description_en="Hole in the road.",
            category=self.category,
            department=self.department,
            keywords=["trou", "asphalte"],
            sla_value=2,
        )
        self.size = ServiceAttributeFactory(
            service_type=self.pothole,
            code="taille",
            label_fr="Taille du trou",
            label_en="Size of the hole",
            datatype="singlevaluelist",
            required=True,
            order=1,
            choices=["petit", "grand"],
        )
        self.lanes = ServiceAttributeFactory(
            service_type=self.pothole,
            code="voies",
            label_fr="Voies touchées",
            datatype="multivaluelist",
            order=2,
            choices=["gauche", "centre", "droite"],
        )
        self.depth = ServiceAttributeFactory(
            service_type=self.pothole,
            code="profondeur",
            label_fr="Profondeur (cm)",
            datatype="number",
            order=3,
        )
        self.graffiti = ServiceTypeFactory(
            code="graffiti",
            name_fr="Graffiti",
            name_en="Graffiti",
            category=self.category,
            department=self.department,
            sla_value=None,
        )
        self.internal = ServiceTypeFactory(
            code="interne", category=self.category, department=self.department, is_public=False
        )
        self.retired = ServiceTypeFactory(
            code="retire", category=self.category, department=self.department, is_active=False
        )


@pytest.fixture
def catalog(laval: Municipality) -> Iterator[Catalog]:
    with schema_context(laval.schema_name):
        yield Catalog()


@pytest.fixture
def laval_client(laval: Municipality, client_for: Callable[[Municipality], Client]) -> Client:
    return client_for(laval)


@pytest.fixture
def levis_client(levis: Municipality, client_for: Callable[[Municipality], Client]) -> Client:
    return client_for(levis)


def make_key(town: Municipality, scope: str = "write", name: str = "Voilà! Signalement") -> str:
    with schema_context(town.schema_name):
        return api_key_create(actor=None, name=name, scope=scope)[1]


@pytest.fixture
def write_key(laval: Municipality) -> str:
    return make_key(laval)


def new_request(catalog: Catalog, **fields: Any) -> ServiceRequest:
    """A pothole request in Laval (call inside Laval's schema)."""
    values: dict[str, Any] = {
        "actor": None,
        "service_type": catalog.pothole,
        "channel": "web",
        "address": "1, boulevard Chomedey",
        "latitude": LAT,
        "longitude": LONG,
        "attributes": {"taille": "grand"},
        **fields,
    }
    return request_create(**values)


def in_laval(laval: Municipality) -> Any:
    return schema_context(laval.schema_name)


def valid_post(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": key,
        "service_code": "nid-de-poule",
        "lat": LAT,
        "long": LONG,
        "attribute[taille]": "petit",
        **extra,
    }


def counts(laval: Municipality) -> tuple[int, int, int]:
    with in_laval(laval):
        return (
            ServiceRequest.objects.count(),
            Citizen.objects.count(),
            RequestEvent.objects.count(),
        )


# --- Discovery and services ----------------------------------------------------------------------
def test_discovery_names_this_towns_endpoint_in_json_and_xml(laval_client: Client) -> None:
    response = laval_client.get(f"{BASE}/discovery.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://laval.localhost/open311/v2/",
            "changeset": body["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ]
    assert "Laval" in body["contact"] and "Laval" in body["key_service"]

    root = xml(laval_client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("url") == "http://laval.localhost/open311/v2/"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_lists_only_public_active_types(catalog: Catalog, laval_client: Client) -> None:
    response = laval_client.get(f"{BASE}/services.json")

    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    services = {s["service_code"]: s for s in response.json()}
    assert "interne" not in services and "retire" not in services
    assert services["nid-de-poule"] == {
        "service_code": "nid-de-poule",
        "service_name": "Nid-de-poule",
        "description": "Trou dans la chaussée.",
        "metadata": True,
        "type": "realtime",
        "keywords": "trou, asphalte",
        "group": "Voirie",
    }
    assert services["graffiti"]["metadata"] is False


def test_services_xml_uses_the_specifications_elements(
    catalog: Catalog, laval_client: Client
) -> None:
    root = xml(laval_client.get(f"{BASE}/services.xml"))

    assert root.tag == "services"
    by_code = {s.findtext("service_code"): s for s in root.findall("service")}
    assert "interne" not in by_code
    pothole = by_code["nid-de-poule"]
    assert [child.tag for child in pothole] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert pothole.findtext("metadata") == "true"
    assert by_code["graffiti"].findtext("metadata") == "false"


def test_services_in_english_when_the_client_prefers_it(
    catalog: Catalog, laval_client: Client
) -> None:
    response = laval_client.get(
        f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en-CA,en;q=0.9,fr;q=0.5"
    )
    french = laval_client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="de, fr;q=0.3")

    services = {s["service_code"]: s for s in response.json()}
    assert response["Content-Language"] == "en"
    assert services["nid-de-poule"]["service_name"] == "Pothole"
    assert services["nid-de-poule"]["group"] == "Roads"
    assert {s["service_code"]: s for s in french.json()}["nid-de-poule"][
        "service_name"
    ] == "Nid-de-poule"


def test_service_definition_lists_attributes_in_order(
    catalog: Catalog, laval_client: Client
) -> None:
    response = laval_client.get(f"{BASE}/services/nid-de-poule.json")

    assert response.status_code == 200
    body = response.json()
    assert body["service_code"] == "nid-de-poule"
    size, lanes, depth = body["attributes"]
    assert size == {
        "variable": True,
        "code": "taille",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "Une des valeurs proposées (key).",
        "order": 1,
        "description": "Taille du trou",
        "values": [{"key": "petit", "name": "Petit"}, {"key": "grand", "name": "Grand"}],
    }
    assert (lanes["code"], lanes["datatype"], lanes["required"], lanes["order"]) == (
        "voies",
        "multivaluelist",
        False,
        2,
    )
    assert [v["key"] for v in lanes["values"]] == ["gauche", "centre", "droite"]
    assert depth["datatype"] == "number" and "values" not in depth and depth["order"] == 3


def test_service_definition_xml(catalog: Catalog, laval_client: Client) -> None:
    root = xml(laval_client.get(f"{BASE}/services/nid-de-poule.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "nid-de-poule"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["taille", "voies", "profondeur"]
    assert attributes[0].findtext("variable") == "true"
    assert attributes[0].findtext("required") == "true"
    assert [v.findtext("key") for v in attributes[0].findall("values/value")] == [
        "petit",
        "grand",
    ]


@pytest.mark.parametrize(
    ("code", "status"),
    [("interne", 404), ("retire", 404), ("inconnu", 404), ("%FF", 404), ("a%00b", 400)],
)
def test_unknown_private_or_inactive_service_is_404(
    catalog: Catalog, laval_client: Client, code: str, status: int
) -> None:
    response = laval_client.get(f"{BASE}/services/{code}.json")
    as_xml = laval_client.get(f"{BASE}/services/{code}.xml")

    assert response.status_code == status  # a NUL byte is bad input, the rest unknown
    errors(response)
    assert as_xml.status_code == status
    xml_errors(as_xml)


def test_unknown_service_code_says_so_in_french(catalog: Catalog, laval_client: Client) -> None:
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
    catalog: Catalog, laval_client: Client, path: str
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


# --- POST requests -------------------------------------------------------------------------------
def test_post_creates_a_request_from_the_api_with_the_keys_name(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json",
        valid_post(
            write_key,
            **{
                "attribute[voies][]": ["gauche", "droite"],
                "attribute[profondeur]": "12",
                "description": "Un gros trou devant le 12.",
                "address_string": "12, rue des Érables, Laval",
                "media_url": "https://photos.exemple.qc.ca/trou.jpg",
                "email": "Nouvelle@Exemple.qc.ca",
                "first_name": "Lucie",
                "last_name": "Gagnon",
                "phone": "+1 (450) 555-0101",
                "device_id": "appareil-1",
                "account_id": "compte-9",
            },
        ),
    )

    assert response.status_code == 201
    (created,) = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert created["service_notice"] == "Délai de traitement visé : 2 jours ouvrables."
    with in_laval(laval):
        request = ServiceRequest.objects.select_related("citizen").get(
            number=created["service_request_id"]
        )
        assert (request.channel, request.channel_detail) == ("api", "Voilà! Signalement")
        assert request.service_type == catalog.pothole
        assert request.attributes == {
            "taille": "petit",
            "voies": ["gauche", "droite"],
            "profondeur": "12",
        }
        assert request.description == "Un gros trou devant le 12."
        assert request.address == "12, rue des Érables, Laval"
        assert (request.latitude, request.longitude) == (Decimal(LAT), Decimal(LONG))
        assert request.media_url == "https://photos.exemple.qc.ca/trou.jpg"
        assert request.citizen is not None
        assert (request.citizen.email, request.citizen.phone) == (
            "nouvelle@exemple.qc.ca",
            "4505550101",
        )
        assert (request.citizen.first_name, request.citizen.last_name) == ("Lucie", "Gagnon")
        event = request.events.get(kind="created")
        assert event.data["device_id"] == "appareil-1"
        assert event.data["account_id"] == "compte-9"
        assert event.data["channel"] == "api"


def test_post_repeated_attribute_for_a_multivalue_list(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json",
        valid_post(write_key, **{"attribute[voies]": ["centre", "gauche"]}),
    )

    assert response.status_code == 201
    with in_laval(laval):
        request = ServiceRequest.objects.get(number=response.json()[0]["service_request_id"])
        assert request.attributes["voies"] == ["centre", "gauche"]
        assert request.citizen is None


def test_post_answers_in_xml(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.xml", valid_post(write_key, address_string="1, rue A")
    )

    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    number = request.findtext("service_request_id")
    assert request.find("account_id") is not None and not request.findtext("account_id")
    with in_laval(laval):
        assert ServiceRequest.objects.filter(number=number, channel="api").exists()


def test_post_with_only_an_address_id(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    data = valid_post(write_key, address_id="ADR-778")
    del data["lat"], data["long"]

    response = laval_client.post(f"{BASE}/requests.json", data)

    assert response.status_code == 201
    number = response.json()[0]["service_request_id"]
    with in_laval(laval):
        request = ServiceRequest.objects.get(number=number)
        assert request.address == "Identifiant d'adresse ADR-778"
    shown = laval_client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert shown["address_id"] == "ADR-778"


def test_post_links_an_existing_citizen_by_email_or_phone_and_follows_merges(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    with in_laval(laval):
        known = citizen_create(actor=None, email="connue@exemple.qc.ca", first_name="Anne")
        by_phone = citizen_create(actor=None, phone="4505550199")
        kept = citizen_create(actor=None, email="gardee@exemple.qc.ca")
        merged = citizen_create(actor=None, email="fusionnee@exemple.qc.ca")
        citizen_merge(actor=UserFactory(is_staff=True), kept=kept, merged=merged)
    before = counts(laval)[1]

    numbers = []
    for extra in (
        {"email": "CONNUE@exemple.qc.ca", "first_name": "Autre nom"},
        {"phone": "450-555-0199"},
        {"email": "fusionnee@exemple.qc.ca"},
    ):
        response = laval_client.post(f"{BASE}/requests.json", valid_post(write_key, **extra))
        assert response.status_code == 201, response.content
        numbers.append(response.json()[0]["service_request_id"])

    with in_laval(laval):
        citizens = [ServiceRequest.objects.get(number=n).citizen_id for n in numbers]
        assert citizens == [known.pk, by_phone.pk, kept.pk]
        assert Citizen.objects.count() == before
        known.refresh_from_db()
        assert known.first_name == "Anne"  # an API caller cannot rename a citizen


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
    catalog: Catalog, laval: Municipality, laval_client: Client, key_kind: str, message: str
) -> None:
    key = ""
    if key_kind == "unknown":
        key = "rls_pas-une-vraie-cle"
    elif key_kind == "read":
        key = make_key(laval, scope="read", name="Tableau de bord")
    elif key_kind == "revoked":
        key = make_key(laval, name="Ancienne application")
        with in_laval(laval):
            from crm.models import ApiKey

            api_key_revoke(actor=None, api_key=ApiKey.objects.get(name="Ancienne application"))
    before = counts(laval)

    response = laval_client.post(f"{BASE}/requests.json", valid_post(key))
    as_xml = laval_client.post(f"{BASE}/requests.xml", valid_post(key))

    assert response.status_code == 403
    assert errors(response) == [{"code": 403, "description": message}]
    assert as_xml.status_code == 403
    assert xml_errors(as_xml) == [("403", message)]
    assert counts(laval) == before


def test_a_laval_key_is_useless_on_levis(
    catalog: Catalog, laval: Municipality, levis: Municipality, levis_client: Client
) -> None:
    key = make_key(laval)
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


def test_post_accepts_the_key_in_the_rest_apis_header(
    catalog: Catalog, laval_client: Client, write_key: str
) -> None:
    response = laval_client.post(f"{BASE}/requests.json", valid_post(""), HTTP_X_API_KEY=write_key)
    assert response.status_code == 201


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
    catalog: Catalog,
    laval: Municipality,
    laval_client: Client,
    write_key: str,
    change: dict[str, Any],
    status: int,
    fragment: str,
) -> None:
    data = valid_post(write_key, **change)
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


def test_post_with_a_json_or_broken_body_is_400(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    before = counts(laval)
    as_json = laval_client.post(
        f"{BASE}/requests.json?api_key={write_key}",
        json.dumps(valid_post(write_key)),
        content_type="application/json",
    )
    broken = laval_client.post(
        f"{BASE}/requests.json?api_key={write_key}",
        b"--x\r\nnot multipart",
        content_type="multipart/form-data; boundary=zz",
    )
    latin1 = laval_client.post(
        f"{BASE}/requests.json",
        f"api_key={write_key}&service_code=nid-de-poule&description=caf%E9".encode(),
        content_type="application/x-www-form-urlencoded",
    )

    assert as_json.status_code == 400
    errors(as_json)
    assert broken.status_code == 400
    errors(broken)
    assert latin1.status_code == 400  # no location; the bad byte itself is no crash
    errors(latin1)
    assert counts(laval) == before


# --- GET requests --------------------------------------------------------------------------------
def test_get_requests_shows_a_request_without_personal_data(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    agent = UserFactory(is_staff=True)
    with in_laval(laval):
        citizen = citizen_create(
            actor=None,
            email=PERSONAL[0],
            phone=PERSONAL[1],
            first_name=PERSONAL[2],
            last_name=PERSONAL[3],
        )
        request = new_request(
            catalog,
            citizen=citizen,
            description="Trou profond.",
            media_url="https://photos.exemple.qc.ca/1.jpg",
            intake_data={"device_id": PERSONAL[4]},
        )
        request_add_note(
            actor=agent, service_request=request, message="Équipe en route.", public=True
        )
        request_add_note(actor=agent, service_request=request, message="Note secrète", public=False)
        request.refresh_from_db()

    outputs = [
        laval_client.get(f"{BASE}/requests.json"),
        laval_client.get(f"{BASE}/requests.xml"),
        laval_client.get(f"{BASE}/requests.json?extensions=true"),
        laval_client.get(f"{BASE}/requests.xml?extensions=true"),
        laval_client.get(f"{BASE}/requests/{request.number}.json?extensions=true"),
        laval_client.get(f"{BASE}/requests/{request.number}.xml?extensions=true"),
    ]

    for response in outputs:
        assert response.status_code == 200
        text = response.content.decode()
        for secret in (*PERSONAL, "Note secrète", "citizen", "email", "phone"):
            assert secret not in text
    (shown,) = outputs[0].json()
    assert shown == {
        "service_request_id": request.number,
        "status": "open",
        "status_notes": "Équipe en route.",
        "service_name": "Nid-de-poule",
        "service_code": "nid-de-poule",
        "description": "Trou profond.",
        "agency_responsible": "Travaux publics",
        "service_notice": "Délai de traitement visé : 2 jours ouvrables.",
        "requested_datetime": timezone.localtime(request.created_at).isoformat(timespec="seconds"),
        "updated_datetime": timezone.localtime(request.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": timezone.localtime(request.sla_due_at).isoformat(timespec="seconds"),
        "address": "1, boulevard Chomedey",
        "address_id": None,
        "zipcode": None,
        "lat": 45.5701,
        "long": -73.7012,
        "media_url": "https://photos.exemple.qc.ca/1.jpg",
    }
    assert shown["requested_datetime"][-6:] in ("-05:00", "-04:00")
    (element,) = xml(outputs[1]).findall("request")
    assert element.findtext("service_request_id") == request.number
    assert element.findtext("status_notes") == "Équipe en route."
    assert element.findtext("lat") == "45.5701"


def test_get_requests_filters(catalog: Catalog, laval: Municipality, laval_client: Client) -> None:
    agent = UserFactory(is_staff=True)
    with in_laval(laval):
        fresh = new_request(catalog)
        on_hold = new_request(catalog)
        request_change_status(actor=agent, service_request=on_hold, status="on_hold")
        resolved = new_request(catalog)
        request_change_status(actor=agent, service_request=resolved, status="resolved")
        graffiti = request_create(
            actor=None, service_type=catalog.graffiti, channel="web", address="2, rue B"
        )
        private = request_create(
            actor=None, service_type=catalog.internal, channel="phone", address="3, rue C"
        )

    def numbers(query: str) -> list[str]:
        response = laval_client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    newest_first = [graffiti.number, resolved.number, on_hold.number, fresh.number]
    assert numbers("") == newest_first  # the private type's request is never shown
    assert private.number not in numbers(f"service_request_id={private.number}")
    assert numbers("status=open") == [graffiti.number, on_hold.number, fresh.number]
    assert numbers("status=closed") == [resolved.number]
    assert numbers("status=open,closed") == newest_first
    assert numbers("service_code=graffiti") == [graffiti.number]
    assert numbers("service_code=graffiti,nid-de-poule&status=closed") == [resolved.number]
    # service_request_id overrides every other filter (here, status and dates).
    assert numbers(
        f"service_request_id={fresh.number},{resolved.number}&status=closed"
        "&start_date=2001-01-01T00:00:00Z"
    ) == [resolved.number, fresh.number]
    as_xml = xml(laval_client.get(f"{BASE}/requests.xml?status=closed"))
    assert as_xml.tag == "service_requests"
    assert [r.findtext("status") for r in as_xml.findall("request")] == ["closed"]


def test_get_requests_window_is_90_days(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    now = timezone.now()
    with in_laval(laval):
        old = new_request(catalog, now=now - timedelta(days=100))
        recent = new_request(catalog, now=now - timedelta(days=10))

    def numbers(query: str) -> list[str]:
        response = laval_client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    start = (now - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
    end = (now - timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers("") == [recent.number]
    assert numbers(f"start_date={start}") == [old.number]  # start + 90 days
    assert numbers(f"end_date={end}") == [old.number]  # end - 90 days
    assert numbers(f"start_date={start}&end_date={end}") == [old.number]
    assert numbers("start_date=&end_date=") == [recent.number]  # empty is not declared


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
    catalog: Catalog, laval_client: Client, query: str, fragment: str
) -> None:
    response = laval_client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == (404 if "jurisdiction" in query else 400), response.content
    (error,) = errors(response)
    assert fragment in error["description"]
    xml_errors(laval_client.get(f"{BASE}/requests.xml?{query}"))


def test_paging_newest_first(catalog: Catalog, laval: Municipality, laval_client: Client) -> None:
    now = timezone.now()
    with in_laval(laval):
        made = [new_request(catalog, now=now - timedelta(hours=h)).number for h in range(7)]

    def page(query: str) -> list[str]:
        return [
            r["service_request_id"]
            for r in laval_client.get(f"{BASE}/requests.json?{query}").json()
        ]

    assert page("page_size=3") == made[0:3]
    assert page("page_size=3&page=2") == made[3:6]
    assert page("page_size=3&page=3") == made[6:7]
    assert page("page_size=3&page=999999") == []
    assert page("") == made  # the specification's default: up to 1,000
    root = xml(laval_client.get(f"{BASE}/requests.xml?page_size=2&page=2"))
    assert [r.findtext("service_request_id") for r in root] == made[2:4]


def test_get_requests_costs_the_same_queries_whatever_the_page_size(
    catalog: Catalog,
    laval: Municipality,
    laval_client: Client,
) -> None:
    agent = UserFactory(is_staff=True)
    with in_laval(laval):
        parent = new_request(catalog)
        for index in range(50):
            request = new_request(catalog)
            request_add_note(
                actor=agent, service_request=request, message=f"Note {index}", public=True
            )
            if index % 10 == 0:
                request_merge(actor=agent, duplicate=request, parent=parent)

    laval_client.get(f"{BASE}/services.json")  # warm the routing table and the connection

    for size in (5, 50):
        with CaptureQueriesContext(connection) as captured:
            response = laval_client.get(f"{BASE}/requests.json?page_size={size}&extensions=true")
        assert len(response.json()) == size
        # The rows (type, department, parent) and their events; the throttle's counter aside.
        assert len(data_queries(captured)) == 2


def test_extensions_add_channel_parent_notes_and_answers(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    agent = UserFactory(is_staff=True)
    with in_laval(laval):
        parent = new_request(catalog)
        child = new_request(
            catalog, channel="api", attributes={"taille": "petit", "voies": ["gauche", "centre"]}
        )
        request_add_note(actor=agent, service_request=child, message="Vu sur place.", public=True)
        request_merge(actor=agent, duplicate=child, parent=parent)

    plain = laval_client.get(f"{BASE}/requests/{child.number}.json").json()[0]
    extended = laval_client.get(f"{BASE}/requests/{child.number}.json?extensions=true").json()[0]

    assert "extended_attributes" not in plain
    assert extended["status"] == "closed"
    assert extended["status_notes"] == f"Doublon de la requête {parent.number}."
    attributes = extended["extended_attributes"]
    assert attributes["channel"] == "api"
    assert attributes["status_detail"] == "duplicate"
    assert attributes["duplicate_of"] == parent.number
    assert [n["message"] for n in attributes["public_notes"]] == [
        "Vu sur place.",
        f"Doublon de la requête {parent.number}.",
    ]
    assert attributes["attributes"] == [  # by code
        {"code": "taille", "value": "petit"},
        {"code": "voies", "value": ["gauche", "centre"]},
    ]

    root = xml(laval_client.get(f"{BASE}/requests/{child.number}.xml?extensions=true"))
    extended_xml = root.find("request/extended_attributes")
    assert extended_xml is not None
    assert extended_xml.findtext("duplicate_of") == parent.number
    assert [n.findtext("message") for n in extended_xml.findall("public_notes/note")] == [
        "Vu sur place.",
        f"Doublon de la requête {parent.number}.",
    ]
    lanes = extended_xml.findall("attributes/attribute")[1]
    assert [v.text for v in lanes.findall("value")] == ["gauche", "centre"]


def test_one_request_and_unknown_ones(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    with in_laval(laval):
        request = new_request(catalog)
        private = request_create(
            actor=None, service_type=catalog.internal, channel="phone", address="3, rue C"
        )

    response = laval_client.get(f"{BASE}/requests/{request.number}.json")
    root = xml(laval_client.get(f"{BASE}/requests/{request.number}.xml"))

    assert [r["service_request_id"] for r in response.json()] == [request.number]
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [request.number]
    for missing in ("1999-000001", private.number, "%FF"):
        not_found = laval_client.get(f"{BASE}/requests/{missing}.json")
        assert not_found.status_code == 404
        errors(not_found)
        xml_errors(laval_client.get(f"{BASE}/requests/{missing}.xml"))


def test_tokens_give_the_request_id(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    with in_laval(laval):
        request = new_request(catalog)

    response = laval_client.get(f"{BASE}/tokens/{request.tracking_token}.json")
    root = xml(laval_client.get(f"{BASE}/tokens/{request.tracking_token}.xml"))
    unknown = laval_client.get(f"{BASE}/tokens/pas-un-jeton.json")

    assert response.json() == [
        {"service_request_id": request.number, "token": request.tracking_token}
    ]
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == request.number
    assert root.findtext("request/token") == request.tracking_token
    assert unknown.status_code == 404
    assert errors(unknown) == [{"code": 404, "description": "Jeton inconnu : « pas-un-jeton »."}]


def test_control_characters_do_not_break_the_xml(
    catalog: Catalog, laval: Municipality, laval_client: Client, write_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json", valid_post(write_key, description="Bip\x07 fin\x1b.")
    )
    number = response.json()[0]["service_request_id"]

    root = xml(laval_client.get(f"{BASE}/requests/{number}.xml"))

    assert root.findtext("request/description") == "Bip fin."
    assert laval_client.get(f"{BASE}/requests/{number}.json").json()[0]["description"] == (
        "Bip\x07 fin\x1b."
    )


# --- Two towns -----------------------------------------------------------------------------------
def test_levis_sees_nothing_of_laval(
    catalog: Catalog, laval: Municipality, levis_client: Client
) -> None:
    with in_laval(laval):
        request = new_request(catalog)

    services = levis_client.get(f"{BASE}/services.json").json()
    requests = levis_client.get(f"{BASE}/requests.json?extensions=true").json()
    token = levis_client.get(f"{BASE}/tokens/{request.tracking_token}.json")
    definition = levis_client.get(f"{BASE}/services/nid-de-poule.json")
    by_id = levis_client.get(f"{BASE}/requests.json?service_request_id={request.number}").json()

    assert "nid-de-poule" not in {s["service_code"] for s in services}
    assert requests == [] and by_id == []
    assert token.status_code == 404
    assert definition.status_code == 404


# --- Jurisdiction, keys on GET, throttling, garbage -----------------------------------------------
def test_jurisdiction_id_must_be_one_of_the_towns_domains(
    catalog: Catalog, laval: Municipality, laval_client: Client
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


def test_gets_need_no_key_but_a_bad_one_is_refused(
    catalog: Catalog, laval: Municipality, laval_client: Client
) -> None:
    read_key = make_key(laval, scope="read", name="Lecture")

    assert laval_client.get(f"{BASE}/requests.json").status_code == 200
    assert laval_client.get(f"{BASE}/requests.json?api_key={read_key}").status_code == 200
    refused = laval_client.get(f"{BASE}/requests.json?api_key=rls_inconnue")
    assert refused.status_code == 403
    errors(refused)


def test_client_address_throttle_answers_429_with_retry_after(
    catalog: Catalog, laval_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "2/min"})

    statuses = [laval_client.get(f"{BASE}/services.json").status_code for _ in range(3)]
    refused = laval_client.get(f"{BASE}/services.xml")

    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert xml_errors(refused)[0][0] == "429"


def test_key_throttle_counts_per_key(
    catalog: Catalog, laval: Municipality, laval_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    key = make_key(laval)
    other = make_key(laval, name="Autre intégrateur")

    statuses = [
        laval_client.post(f"{BASE}/requests.json", valid_post(key)).status_code for _ in range(3)
    ]
    with_other = laval_client.post(f"{BASE}/requests.json", valid_post(other))
    refused = laval_client.post(f"{BASE}/requests.json", valid_post(key))

    assert statuses == [201, 201, 429]
    assert with_other.status_code == 201
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    errors(refused)


def test_throttle_counters_are_per_town(
    catalog: Catalog, laval_client: Client, levis_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "1/min"})

    assert laval_client.get(f"{BASE}/services.json").status_code == 200
    assert laval_client.get(f"{BASE}/services.json").status_code == 429
    assert levis_client.get(f"{BASE}/services.json").status_code == 200


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
def test_garbage_never_crashes(catalog: Catalog, laval_client: Client, path: str) -> None:
    response = laval_client.get(f"{BASE}/{path}")
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code != 200:
        body = response.content
        assert body.startswith((b"[", b"<?xml"))
