"""What the Open311 tests (test_open311_*.py) share: the routes' base, a valid POST, the
readers of Open311's two formats and of its error lists, and Laval's catalog for them."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from django_tenants.utils import schema_context

from crm.models import Citizen, RequestEvent, ServiceRequest
from tenants.models import Municipality
from tests.factories import (
    DepartmentFactory,
    ServiceAttributeFactory,
    ServiceCategoryFactory,
    ServiceRequestFactory,
    ServiceTypeFactory,
)

BASE = "/open311/v2"
LAT, LONG = "45.5701", "-73.7012"
PERSONAL = ("camille.secret@exemple.qc.ca", "4505559876", "Camille", "Tremblay", "appareil-42")


def xml(response: Any) -> ElementTree.Element:
    """The XML document of an answer, after checking that it is declared as XML in UTF-8."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314  (our own output)


def errors(response: Any) -> list[dict[str, Any]]:
    """The Open311 error list, checked against the HTTP status."""
    body = response.json()
    assert isinstance(body, list)
    assert body
    assert all(set(item) == {"code", "description"} for item in body)
    assert body[0]["code"] == response.status_code
    assert body[0]["description"]
    return body


def xml_errors(response: Any) -> list[tuple[str, str]]:
    """The Open311 error list in XML, as (code, description) pairs, checked against the HTTP
    status."""
    root = xml(response)
    assert root.tag == "errors"
    found = [(e.findtext("code") or "", e.findtext("description") or "") for e in root]
    assert found
    assert found[0][0] == str(response.status_code)
    assert found[0][1]
    return found


def valid_post(key: str, **extra: Any) -> dict[str, Any]:
    """The form of a valid pothole report made with `key`, with `extra` fields."""
    return {
        "api_key": key,
        "service_code": "nid-de-poule",
        "lat": LAT,
        "long": LONG,
        "attribute[taille]": "petit",
        **extra,
    }


def counts(town: Municipality) -> tuple[int, int, int]:
    """How many requests, citizens and timeline events the town holds."""
    with schema_context(town.schema_name):
        return (
            ServiceRequest.objects.count(),
            Citizen.objects.count(),
            RequestEvent.objects.count(),
        )


class Open311Catalog:
    """Laval's catalog for the Open311 tests: one rich public type (`pothole`, with a required
    choice `size`, a multiple choice `lanes` and a number `depth`), one simple (`graffiti`,
    without a delay), one private (`internal`) and one inactive (`retired`), all of
    `department` (Public Works) in `category` (Roads). Build it inside Laval's schema."""

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

    def pothole_request(self, **fields: Any) -> ServiceRequest:
        """A large pothole reported from the web at a point on boulevard Chomedey, through
        ServiceRequestFactory (call inside Laval's schema); `fields` change any of it."""
        values: dict[str, Any] = {
            "service_type": self.pothole,
            "channel": "web",
            "address": "1, boulevard Chomedey",
            "latitude": LAT,
            "longitude": LONG,
            "attributes": {"taille": "grand"},
            **fields,
        }
        return ServiceRequestFactory(**values)
