from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from crm.models import Department, ServiceAttribute, ServiceType
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

SERVICES_JSON = [
    {
        "service_code": "001",
        "service_name": "Nid-de-poule",
        "description": "Trou dans la chaussée",
        "metadata": True,
        "type": "realtime",
        "keywords": "route, trou",
        "group": "Voirie",
        "attributes": [
            {
                "variable": True,
                "code": "TAILLE",
                "datatype": "singlevaluelist",
                "required": True,
                "order": 1,
                "description": "Taille du trou",
                "values": [{"key": "s", "name": "Petit"}, {"key": "l", "name": "Grand"}],
            },
            {
                "variable": True,
                "code": "note",
                "datatype": "text",
                "required": False,
                "order": 2,
                "description": "Précisions",
            },
        ],
    },
    {"service_code": "Graffiti Removal", "service_name": "Graffiti", "group": "Propreté"},
]

SERVICES_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<export>
  <services>
    <service><service_code>DMV66</service_code><service_name>Abandoned vehicle</service_name>
      <description>Car left on the street</description><keywords>car, vehicle</keywords>
      <group>Traffic</group></service>
  </services>
  <service_definition>
    <service_code>DMV66</service_code>
    <attributes>
      <attribute><variable>true</variable><code>PLATE</code><datatype>string</datatype>
        <required>false</required><order>1</order><description>Licence plate</description>
      </attribute>
      <attribute><variable>true</variable><code>COLOUR</code><datatype>singlevaluelist</datatype>
        <required>true</required><order>2</order><description>Colour</description>
        <values><value><key>red</key><name>Red</name></value><value><key>blue</key><name>Blue</name></value></values>
      </attribute>
    </attributes>
  </service_definition>
</export>"""


def _import(tmp_path, content: bytes, suffix: str, *extra: str) -> str:
    path = tmp_path / f"services.{suffix}"
    path.write_bytes(content)
    out = StringIO()
    call_command(
        "import_open311_services",
        str(path),
        "--tenant",
        "laval",
        "--department",
        "voirie",
        *extra,
        stdout=out,
    )
    return out.getvalue().strip()


def test_a_json_list_with_inline_definitions(laval, tmp_path):
    with schema_context(laval.schema_name):
        DepartmentFactory(code="voirie")

    out = _import(tmp_path, json.dumps(SERVICES_JSON).encode(), "json")

    assert out == "laval : 2 type(s) créé(s), 0 mis à jour, 2 champ(s)."
    with schema_context(laval.schema_name):
        pothole = ServiceType.objects.get(code="001")
        assert (pothole.name_fr, pothole.category.code, pothole.department.code) == (
            "Nid-de-poule",
            "voirie",
            "voirie",
        )
        assert pothole.keywords == ["route", "trou"]
        size = pothole.attributes.get(code="taille")
        assert (size.label_fr, size.datatype, size.required) == (
            "Taille du trou",
            "singlevaluelist",
            True,
        )
        assert list(size.values.values_list("key", "name_fr")) == [("s", "Petit"), ("l", "Grand")]
        assert ServiceType.objects.filter(code="graffiti-removal").exists()
    with schema_context("levis"):
        assert ServiceType.objects.count() == 0


def test_an_english_xml_list_with_definitions_and_a_second_run_updates(laval, tmp_path):
    with schema_context(laval.schema_name):
        DepartmentFactory(code="voirie")

    first = _import(tmp_path, SERVICES_XML, "xml", "--language", "en")
    with schema_context(laval.schema_name):
        ServiceType.objects.filter(code="dmv66").update(name_fr="Véhicule abandonné")
    second = _import(tmp_path, SERVICES_XML, "xml", "--language", "en")

    assert first == "laval : 1 type(s) créé(s), 0 mis à jour, 2 champ(s)."
    assert second == "laval : 0 type(s) créé(s), 1 mis à jour, 2 champ(s)."
    with schema_context(laval.schema_name):
        vehicle = ServiceType.objects.get(code="dmv66")
        assert (vehicle.name_en, vehicle.name_fr) == ("Abandoned vehicle", "Véhicule abandonné")
        colour = vehicle.attributes.get(code="colour")
        assert list(colour.values.values_list("key", "name_en")) == [
            ("red", "Red"),
            ("blue", "Blue"),
        ]
        assert ServiceAttribute.objects.filter(service_type=vehicle).count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{pas du json", "JSON illisible"),
        (b"<services><service>", "XML illisible"),
        (b"[]", "aucun service"),
        (json.dumps([{"service_code": "x"}]).encode(), "le code et le nom sont obligatoires"),
        (
            json.dumps(
                [
                    {"service_code": "ok", "service_name": "Valide"},
                    {
                        "service_code": "y",
                        "service_name": "Y",
                        "attributes": [{"code": "c", "datatype": "photo"}],
                    },
                ]
            ).encode(),
            "type de réponse « photo »",
        ),
        (
            json.dumps(
                [
                    {"service_code": "Nid de poule #12", "service_name": "A"},
                    {"service_code": "nid de poule 12", "service_name": "B"},
                ]
            ).encode(),
            "même code une fois converti",
        ),
        (json.dumps(["pas un objet"]).encode(), "un objet est attendu"),
    ],
)
def test_a_bad_document_is_refused_and_imports_nothing(laval, tmp_path, content, message):
    with schema_context(laval.schema_name):
        DepartmentFactory(code="voirie")

    with pytest.raises(CommandError, match=message):
        _import(tmp_path, content, "json")

    with schema_context(laval.schema_name):
        assert ServiceType.objects.count() == 0


def test_an_unknown_department_is_named(laval, tmp_path):
    with pytest.raises(CommandError, match="« voirie » n'existe pas à laval"):
        _import(tmp_path, b"[]", "json")


def test_an_import_can_create_its_department_and_a_refused_file_leaves_none(laval, tmp_path):
    out = _import(
        tmp_path, json.dumps(SERVICES_JSON).encode(), "json", "--create-department", "Voirie"
    )

    assert out.splitlines() == [
        "laval : service municipal « Voirie » créé.",
        "laval : 2 type(s) créé(s), 0 mis à jour, 2 champ(s).",
    ]
    with schema_context(laval.schema_name):
        assert Department.objects.get(code="voirie").name_fr == "Voirie"
        assert ServiceType.objects.filter(department__code="voirie").count() == 2
    with schema_context("levis"):
        assert not Department.objects.filter(code="voirie").exists()

    path = tmp_path / "broken.json"
    path.write_bytes(b"[{")
    with pytest.raises(CommandError):
        call_command(
            "import_open311_services",
            str(path),
            "--tenant",
            "laval",
            "--department",
            "parcs",
            "--create-department",
            "Parcs",
            stdout=StringIO(),
        )
    with schema_context(laval.schema_name):
        assert not Department.objects.filter(code="parcs").exists()


def test_an_unknown_department_without_a_name_to_create_it_is_refused(laval, tmp_path):
    with pytest.raises(CommandError, match="--create-department"):
        _import(tmp_path, json.dumps(SERVICES_JSON).encode(), "json")
