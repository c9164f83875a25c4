"""Open311 GeoReport v2 (/open311/v2/), writing: a POST to requests with a write key creates a
request on the API channel, linked to the citizen it names. (Refused posts are in
test_open311_errors.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from crm.models import Citizen, ServiceRequest
from crm.services import (
    citizen_create,
    citizen_merge,
)
from tenants.models import Municipality
from tests.crm.open311 import (
    BASE,
    LAT,
    LONG,
    Open311Catalog,
    counts,
    valid_post,
    xml,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_post_creates_a_request_from_the_api_with_the_keys_name(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json",
        valid_post(
            api_key,
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
    with schema_context(laval.schema_name):
        request = ServiceRequest.objects.select_related("citizen").get(
            number=created["service_request_id"]
        )
        assert (request.channel, request.channel_detail) == ("api", "Voilà! Signalement")
        assert request.service_type == open311_catalog.pothole
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


def test_post_repeating_a_multivalue_attribute_keeps_every_value(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json",
        valid_post(api_key, **{"attribute[voies]": ["centre", "gauche"]}),
    )

    assert response.status_code == 201
    with schema_context(laval.schema_name):
        request = ServiceRequest.objects.get(number=response.json()[0]["service_request_id"])
        assert request.attributes["voies"] == ["centre", "gauche"]
        assert request.citizen is None


def test_post_to_requests_xml_answers_in_xml(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.xml", valid_post(api_key, address_string="1, rue A")
    )

    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    number = request.findtext("service_request_id")
    assert request.find("account_id") is not None
    assert not request.findtext("account_id")
    with schema_context(laval.schema_name):
        assert ServiceRequest.objects.filter(number=number, channel="api").exists()


def test_post_with_only_an_address_id_records_and_shows_it(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    data = valid_post(api_key, address_id="ADR-778")
    del data["lat"], data["long"]

    response = laval_client.post(f"{BASE}/requests.json", data)

    assert response.status_code == 201
    number = response.json()[0]["service_request_id"]
    with schema_context(laval.schema_name):
        request = ServiceRequest.objects.get(number=number)
        assert request.address == "Identifiant d'adresse ADR-778"
    shown = laval_client.get(f"{BASE}/requests/{number}.json").json()[0]
    assert shown["address_id"] == "ADR-778"


def test_post_links_an_existing_citizen_by_email_or_phone_and_follows_merges(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    with schema_context(laval.schema_name):
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
        response = laval_client.post(f"{BASE}/requests.json", valid_post(api_key, **extra))
        assert response.status_code == 201, response.content
        numbers.append(response.json()[0]["service_request_id"])

    with schema_context(laval.schema_name):
        citizens = [ServiceRequest.objects.get(number=n).citizen_id for n in numbers]
        assert citizens == [known.pk, by_phone.pk, kept.pk]
        assert Citizen.objects.count() == before
        known.refresh_from_db()
        assert known.first_name == "Anne"  # an API caller cannot rename a citizen


def test_post_accepts_the_key_in_the_rest_apis_header(
    open311_catalog: Open311Catalog, laval_client: Client, api_key: str
) -> None:
    response = laval_client.post(f"{BASE}/requests.json", valid_post(""), HTTP_X_API_KEY=api_key)
    assert response.status_code == 201
