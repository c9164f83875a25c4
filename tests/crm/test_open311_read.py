"""Open311 GeoReport v2 (/open311/v2/), reading: discovery, the service list and definitions,
requests and tokens, in JSON and XML, without personal data; and Lévis sees none of Laval's.
(Writing is in test_open311_write.py, every refusal in test_open311_errors.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from crm.services import (
    citizen_create,
    request_add_note,
    request_change_status,
    request_merge,
)
from tenants.models import Municipality
from tests.conftest import data_queries
from tests.crm.open311 import (
    BASE,
    PERSONAL,
    Open311Catalog,
    errors,
    valid_post,
    xml,
    xml_errors,
)
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


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
    assert "Laval" in body["contact"]
    assert "Laval" in body["key_service"]

    root = xml(laval_client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("url") == "http://laval.localhost/open311/v2/"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_lists_only_public_active_types(
    open311_catalog: Open311Catalog, laval_client: Client
) -> None:
    response = laval_client.get(f"{BASE}/services.json")

    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    services = {s["service_code"]: s for s in response.json()}
    assert "interne" not in services
    assert "retire" not in services
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
    open311_catalog: Open311Catalog, laval_client: Client
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
    open311_catalog: Open311Catalog, laval_client: Client
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
    open311_catalog: Open311Catalog, laval_client: Client
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
    assert depth["datatype"] == "number"
    assert "values" not in depth
    assert depth["order"] == 3


def test_service_definition_in_xml_lists_attributes_and_values(
    open311_catalog: Open311Catalog, laval_client: Client
) -> None:
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


def test_get_requests_shows_a_request_without_personal_data(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    agent = UserFactory(is_staff=True)
    with schema_context(laval.schema_name):
        citizen = citizen_create(
            actor=None,
            email=PERSONAL[0],
            phone=PERSONAL[1],
            first_name=PERSONAL[2],
            last_name=PERSONAL[3],
        )
        request = open311_catalog.pothole_request(
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


def test_requests_filter_by_status_and_code_and_a_list_of_ids_overrides_all(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    """Filters combine; a private type's request never shows, even asked for by number."""
    agent = UserFactory(is_staff=True)
    with schema_context(laval.schema_name):
        fresh = open311_catalog.pothole_request()
        on_hold = open311_catalog.pothole_request()
        request_change_status(actor=agent, service_request=on_hold, status="on_hold")
        resolved = open311_catalog.pothole_request()
        request_change_status(actor=agent, service_request=resolved, status="resolved")
        graffiti = ServiceRequestFactory(
            service_type=open311_catalog.graffiti, channel="web", address="2, rue B"
        )
        private = ServiceRequestFactory(
            service_type=open311_catalog.internal, channel="phone", address="3, rue C"
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


def test_requests_list_90_days_back_from_the_end_or_on_from_the_start(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    """No date: the last 90 days; a start or an end: 90 days from it; an empty date is no date."""
    now = timezone.now()
    with schema_context(laval.schema_name):
        old = open311_catalog.pothole_request(now=now - timedelta(days=100))
        recent = open311_catalog.pothole_request(now=now - timedelta(days=10))

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


def test_requests_are_paged_newest_first(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    now = timezone.now()
    with schema_context(laval.schema_name):
        made = [
            open311_catalog.pothole_request(now=now - timedelta(hours=h)).number for h in range(7)
        ]

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
    open311_catalog: Open311Catalog,
    laval: Municipality,
    laval_client: Client,
) -> None:
    """5 or 50 requests with notes and merges cost the same two queries."""
    agent = UserFactory(is_staff=True)
    with schema_context(laval.schema_name):
        parent = open311_catalog.pothole_request()
        for index in range(50):
            request = open311_catalog.pothole_request()
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
        # The rows (with the parent's number), their types, their departments and their
        # events; the throttle's counter aside.
        assert len(data_queries(captured)) == 4


def test_a_page_from_plain_rows_is_each_request_as_shown_alone(
    open311_catalog: Open311Catalog, laval: Municipality
) -> None:
    """The list builds its page from rows (crm/api/open311/representations.py); it must say
    exactly what `request_data` says of each request: notes, merges, answers, coordinates,
    the address id of the intake, an empty description, both delays."""
    from crm.api.open311.representations import request_data, request_page_data
    from crm.roles import PUBLISHED_REGISTER
    from crm.selectors import request_list
    from tests.factories import ServiceRequestFactory

    agent = UserFactory(is_staff=True)
    zone = timezone.get_default_timezone()
    with schema_context(laval.schema_name):
        parent = open311_catalog.pothole_request()
        child = open311_catalog.pothole_request(
            channel="api", attributes={"taille": "petit", "voies": ["gauche", "centre"]}
        )
        request_add_note(actor=agent, service_request=child, message="Vu sur place.", public=True)
        request_add_note(actor=agent, service_request=child, message="Interne.", public=False)
        request_merge(actor=agent, duplicate=child, parent=parent)
        ServiceRequestFactory(
            service_type=open311_catalog.graffiti,
            description="",
            latitude="45.570000",
            longitude="-73.690000",
            intake_data={"address_id": 4521},
        )
        requests = request_list(viewer=PUBLISHED_REGISTER)[:50]
        for extensions in (False, True):
            alone = [request_data(r, zone=zone, extensions=extensions) for r in requests]
            page = request_page_data(requests, zone=zone, extensions=extensions)
            assert page == alone
            assert [list(item) for item in page] == [list(item) for item in alone]
        assert len(alone) == 3
        assert any(item["address_id"] == "4521" for item in alone)


def test_extensions_add_channel_parent_notes_and_answers(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    agent = UserFactory(is_staff=True)
    with schema_context(laval.schema_name):
        parent = open311_catalog.pothole_request()
        child = open311_catalog.pothole_request(
            channel="api", attributes={"taille": "petit", "voies": ["gauche", "centre"]}
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


def test_one_request_by_number_and_an_unknown_or_private_one_is_404(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    with schema_context(laval.schema_name):
        request = open311_catalog.pothole_request()
        private = ServiceRequestFactory(
            service_type=open311_catalog.internal, channel="phone", address="3, rue C"
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


def test_a_token_gives_its_request_number_and_an_unknown_one_is_404(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client
) -> None:
    with schema_context(laval.schema_name):
        request = open311_catalog.pothole_request()

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


def test_control_characters_are_dropped_from_xml_and_kept_in_json(
    open311_catalog: Open311Catalog, laval: Municipality, laval_client: Client, api_key: str
) -> None:
    response = laval_client.post(
        f"{BASE}/requests.json", valid_post(api_key, description="Bip\x07 fin\x1b.")
    )
    number = response.json()[0]["service_request_id"]

    root = xml(laval_client.get(f"{BASE}/requests/{number}.xml"))

    assert root.findtext("request/description") == "Bip fin."
    assert laval_client.get(f"{BASE}/requests/{number}.json").json()[0]["description"] == (
        "Bip\x07 fin\x1b."
    )


def test_levis_sees_nothing_of_laval(
    open311_catalog: Open311Catalog, laval: Municipality, levis_client: Client
) -> None:
    with schema_context(laval.schema_name):
        request = open311_catalog.pothole_request()

    services = levis_client.get(f"{BASE}/services.json").json()
    requests = levis_client.get(f"{BASE}/requests.json?extensions=true").json()
    token = levis_client.get(f"{BASE}/tokens/{request.tracking_token}.json")
    definition = levis_client.get(f"{BASE}/services/nid-de-poule.json")
    by_id = levis_client.get(f"{BASE}/requests.json?service_request_id={request.number}").json()

    assert "nid-de-poule" not in {s["service_code"] for s in services}
    assert requests == []
    assert by_id == []
    assert token.status_code == 404
    assert definition.status_code == 404
