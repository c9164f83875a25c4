"""Bad input at the import of an Open311 service list (crm/imports/open311_services.py); the
console's form for the same import is in tests/onboarding.

For any document, JSON or XML, well-formed or not:
- the import answers a report or raises CrmError, never another exception;
- a refused document changes nothing in Laval or Lévis;
- an accepted one changes Laval's catalog only, and what it stores passes the models' own
  validation, named as the document names it (trimmed, NUL characters dropped, cut to the
  field's length).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from xml.sax.saxutils import escape

import pytest
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from crm.errors import CrmError
from crm.imports.open311_services import open311_services_import, relais_code
from crm.models import ServiceType
from tests.bad_input import (
    bad_input_settings,
    byte_mutations,
    json_value,
    nasty_text,
    rolled_back,
    shown,
    snapshot,
)

pytestmark = pytest.mark.django_db

CATALOG_TABLES = {
    "laval.crm_serviceattribute",
    "laval.crm_serviceattributevalue",
    "laval.crm_servicecategory",
    "laval.crm_servicetype",
    # The version of the town's intake configuration, moved by a change of the catalog.
    "laval.crm_townconfigversion",
}
DATATYPES = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


def _text(wild: bool) -> st.SearchStrategy[Any]:
    """A field of the document: hostile text, or (in a wild document) any JSON at all."""
    text = st.one_of(nasty_text(long=False), nasty_text())
    return st.one_of(text, json_value()) if wild else text


def _attribute(wild: bool) -> st.SearchStrategy[Any]:
    text = _text(wild)
    attribute = st.fixed_dictionaries(
        {"code": st.one_of(st.sampled_from(["TAILLE", "note", "Couleur du bac"]), text)},
        optional={
            "datatype": st.one_of(st.sampled_from(DATATYPES), text),
            "required": st.one_of(st.booleans(), text),
            "order": st.one_of(st.integers(-(2**40), 2**40), text),
            "description": text,
            "variable": json_value(),
            "values": st.lists(
                st.fixed_dictionaries(
                    {"key": st.one_of(st.sampled_from(["s", "l"]), text)},
                    optional={"name": text},
                ),
                max_size=3,
            ),
        },
    )
    return st.one_of(attribute, json_value()) if wild else attribute


def _service(wild: bool) -> st.SearchStrategy[Any]:
    text = _text(wild)
    service = st.fixed_dictionaries(
        {
            "service_code": st.one_of(
                st.sampled_from(["001", "Graffiti Removal", "DMV66", "Nid de poule #12"]), text
            ),
            "service_name": st.one_of(st.just("Nid-de-poule"), text),
        },
        optional={
            "description": text,
            "keywords": st.one_of(st.just("route, trou"), st.lists(text, max_size=3), text),
            "group": st.one_of(st.just("Voirie"), text),
            "metadata": json_value(),
            "attributes": st.lists(_attribute(wild), max_size=3),
        },
    )
    return st.one_of(service, json_value()) if wild else service


def _json_documents(wild: bool) -> st.SearchStrategy[bytes]:
    services = st.lists(_service(wild), min_size=1, max_size=4)
    definitions = st.lists(
        st.fixed_dictionaries(
            {"service_code": _text(wild), "attributes": st.lists(_attribute(wild))}
        ),
        max_size=2,
    )
    documents = st.one_of(
        services,
        st.fixed_dictionaries({"services": services}, optional={"definitions": definitions}),
    )
    if wild:
        documents = st.one_of(
            documents,
            st.fixed_dictionaries(
                {"services": st.one_of(services, json_value())},
                optional={"definitions": st.one_of(definitions, json_value())},
            ),
            json_value(),
        )
    return st.tuples(documents, st.booleans()).map(
        lambda made: json.dumps(made[0], ensure_ascii=made[1]).encode()
    )


def _xml_text(value: Any) -> str:
    return escape(value if isinstance(value, str) else json.dumps(value))


def _xml_service(service: Any) -> str:
    if not isinstance(service, dict):
        return f"<service>{_xml_text(service)}</service>"
    inner = "".join(
        f"<{name}>{_xml_text(value)}</{name}>"
        for name, value in service.items()
        if name != "attributes"
    )
    attributes = service.get("attributes")
    if isinstance(attributes, list):
        inner += "<attributes>"
        for attribute in attributes:
            if isinstance(attribute, dict):
                values = attribute.get("values")
                inner += "<attribute>" + "".join(
                    f"<{name}>{_xml_text(value)}</{name}>"
                    for name, value in attribute.items()
                    if name != "values"
                )
                if isinstance(values, list):
                    inner += "<values>" + "".join(
                        "<value>"
                        + "".join(
                            f"<{name}>{_xml_text(text)}</{name}>" for name, text in value.items()
                        )
                        + "</value>"
                        for value in values
                        if isinstance(value, dict)
                    )
                    inner += "</values>"
                inner += "</attribute>"
        inner += "</attributes>"
    return f"<service>{inner}</service>"


def _xml_documents() -> st.SearchStrategy[bytes]:
    return st.lists(_service(wild=False), min_size=1, max_size=3).map(
        lambda services: (
            '<?xml version="1.0" encoding="utf-8"?><services>'
            + "".join(_xml_service(service) for service in services)
            + "</services>"
        ).encode("utf-8", "surrogatepass")
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'.encode()
        for n in range(1, 10)
    )
    + b"]><services><service><service_code>a</service_code><service_name>&lol9;"
    + b"</service_name></service></services>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<services><service><service_code>a</service_code><service_name>&x;</service_name>"
    b"</service></services>"
)


def _documents() -> st.SearchStrategy[bytes]:
    valid = json.dumps([{"service_code": "001", "service_name": "Nid-de-poule"}]).encode()
    return st.one_of(
        _json_documents(wild=False),
        _json_documents(wild=True),
        _xml_documents(),
        byte_mutations(valid),
        st.binary(max_size=100),
        st.sampled_from(
            [
                b"[" * 100_000 + b"]" * 100_000,
                b"<a>" * 50_000 + b"</a>" * 50_000,
                BILLION_LAUGHS,
                EXTERNAL_ENTITY,
                b"",
                b"   ",
                b"null",
                b"[]",
                b"{}",
                b'{"services": 5}',
            ]
        ),
    )


def _import(content: bytes, department: Any, language: str) -> Any:
    try:
        return open311_services_import(content=content, department=department, language=language)
    except CrmError as error:
        assert error.message.strip()
        return error


def test_any_service_list_is_imported_valid_or_refused_whole(import_catalog: dict) -> None:
    department = import_catalog["roads"]
    seen: Counter = Counter()

    @bad_input_settings(max_examples=100)
    @given(content=_documents(), language=st.sampled_from(["fr", "en"]))
    def check(content: bytes, language: str) -> None:
        shown(content=content, language=language)
        with rolled_back():
            before = snapshot("laval", "levis")
            with schema_context("laval"):
                known = set(ServiceType.objects.values_list("code", flat=True))
                outcome = _import(content, department, language)
            changed = before.changed(snapshot("laval", "levis"))
            if isinstance(outcome, CrmError):
                seen["refused"] += 1
                assert changed == []
                return
            seen["imported"] += 1
            assert set(changed) <= CATALOG_TABLES
            with schema_context("laval"):
                imported = ServiceType.objects.filter(
                    code__in=outcome.created + outcome.updated
                ).prefetch_related("attributes__values")
                assert len(imported) == len(outcome.created) + len(outcome.updated)
                assert not set(outcome.created) & known
                for service_type in imported:
                    _assert_valid(service_type)
                for code, name in _given_names(content).items():
                    stored = ServiceType.objects.get(code=code)
                    assert getattr(stored, f"name_{language}") == name

    check()
    assert seen["imported"] >= 10, seen
    assert seen["refused"] >= 10, seen


def _given_names(content: bytes) -> dict[str, str]:
    """The name each service of a JSON document must have been stored under, by code."""
    try:
        document = json.loads(content)
    except ValueError:
        return {}
    services = document.get("services") if isinstance(document, dict) else document
    return {
        relais_code(_normalized(service["service_code"])): _normalized(service["service_name"])[
            :200
        ].strip()
        for service in services
    }


def _normalized(value: Any) -> str:
    return str(value).replace("\x00", "").strip()


def _assert_valid(service_type: ServiceType) -> None:
    service_type.full_clean()
    service_type.category.full_clean()
    assert service_type.code == relais_code(service_type.code)
    assert service_type.name_fr.strip()
    assert service_type.name_fr == service_type.name_fr.strip()
    for attribute in service_type.attributes.all():
        attribute.full_clean()
        for value in attribute.values.all():
            value.full_clean()
    for text in (
        service_type.name_fr,
        service_type.name_en,
        service_type.description_fr,
        service_type.description_en,
        *service_type.keywords,
    ):
        assert "\x00" not in text


# --- Payloads the property found ------------------------------------------------------------------
def _services(*services: Any, **document: Any) -> bytes:
    return json.dumps(document or list(services)).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Each one raised TypeError, AttributeError or RecursionError, not a refusal.
        (_services(services=5), "« services » et « definitions » doivent être des listes."),
        (_services(services=[], definitions=["x"]), "Le document ne contient aucun service."),
        (_services(services=["x"]), "Service n° 1 : un objet est attendu."),
        (
            _services(services=[{"service_code": "a"}], definitions=[{"service_code": []}]),
            "Service n° 1 : le code et le nom sont obligatoires.",
        ),
        (
            _services({"service_code": "a", "service_name": "b", "attributes": ["x"]}),
            "Service n° 1 : un objet est attendu.",
        ),
        (
            _services({"service_code": "a", "service_name": "b", "attributes": {"a": 1}}),
            "Service n° 1 : « attributes » doit être une liste.",
        ),
        (
            _services(
                {
                    "service_code": "a",
                    "service_name": "b",
                    "attributes": [{"code": "c", "datatype": "string", "values": "ab"}],
                }
            ),
            "Service n° 1, champ « c » : « values » doit être une liste.",
        ),
        (
            _services({"service_code": "a", "service_name": {"fr": "b"}}),
            "Service n° 1 : « service_name » doit être un texte.",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "JSON illisible : trop imbriqué."),
    ],
)
def test_malformed_documents_found_by_the_property_are_refused_whole(
    import_catalog: dict, content: bytes, message: str
) -> None:
    before = snapshot("laval", "levis")

    with schema_context("laval"), pytest.raises(CrmError) as refused:
        open311_services_import(content=content, department=import_catalog["roads"])

    assert refused.value.message == message
    assert before.changed(snapshot("laval", "levis")) == []


def test_text_found_by_the_property_is_stored_normalized(import_catalog: dict) -> None:
    # A NUL in a name, a group over its 160 characters, an order over the column's 32,767 and
    # keywords given as a number each failed in the database; a code cut to 60 characters ended
    # with a dash, so converting it again changed it.
    content = _services(
        {
            "service_code": "0-" * 40,
            "service_name": "Nid\x00-de-poule ",
            "group": "G" * 500,
            "keywords": 5,
            "attributes": [{"code": "c", "datatype": "string", "order": 99_999_999_999}],
        }
    )

    with schema_context("laval"):
        report = open311_services_import(content=content, department=import_catalog["roads"])
        service_type = ServiceType.objects.select_related("category").get(code=report.created[0])
        attribute = service_type.attributes.get()

    assert report.created == ["0-" * 29 + "0"]
    assert service_type.code == relais_code(service_type.code)
    assert (service_type.name_fr, service_type.keywords) == ("Nid-de-poule", ["5"])
    assert service_type.category.name_fr == "G" * 160
    assert attribute.order == 32767
