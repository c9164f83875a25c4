"""Import of a service list exported by another city's Open311 GeoReport v2 system.

Accepted: the `services.json` / `services.xml` list, where each service may carry its
definition's `attributes` inline, or a list followed by `service_definition` documents (XML:
`<services>` and `<service_definition>` elements under any root). Codes are made valid Relais
codes (lowercase, `-`), groups become categories, and every service lands in one department.
All or nothing: the whole document is checked before anything is written, and the first
invalid service stops the import with its position and reason. Text is trimmed, cut to its
column and stripped of NUL characters; a field that should be text and is an object or a list
is refused.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from django.db import transaction
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    AttributeDatatype,
    Department,
    ServiceAttribute,
    ServiceCategory,
    ServiceType,
)

_NOT_CODE = re.compile(r"[^a-z0-9_-]+")


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    attributes: int = 0


def relais_code(raw: object) -> str:
    """`Nid de poule #12` → `nid-de-poule-12`: a valid, stable Relais code (converting it
    again changes nothing: a code cut to its 60 characters does not end with a dash)."""
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode().lower()
    return _NOT_CODE.sub("-", text).strip("-_")[:60].rstrip("-_")


def _xml_text(element: ElementTree.Element, name: str) -> str:
    child = element.find(name)
    return (child.text or "").strip() if child is not None and child.text else ""


def _xml_attributes(element: ElementTree.Element) -> list[dict[str, Any]]:
    attributes = []
    for node in element.findall("./attributes/attribute"):
        attributes.append(
            {
                "variable": _xml_text(node, "variable"),
                "code": _xml_text(node, "code"),
                "datatype": _xml_text(node, "datatype"),
                "required": _xml_text(node, "required"),
                "order": _xml_text(node, "order"),
                "description": _xml_text(node, "description"),
                "values": [
                    {"key": _xml_text(value, "key"), "name": _xml_text(value, "name")}
                    for value in node.findall("./values/value")
                ],
            }
        )
    return attributes


def parse_services(content: bytes) -> list[Any]:
    """The services of a JSON or XML document, each with its `attributes` list if known.

    Raises CrmError for an unreadable document or one whose lists are not lists."""
    text = content.lstrip()
    if text.startswith((b"[", b"{")):
        try:
            document = json.loads(text)
        except RecursionError as error:
            raise CrmError(
                CrmErrorCode.INVALID_DOCUMENT, _("JSON illisible : trop imbriqué.")
            ) from error
        except ValueError as error:
            raise CrmError(
                CrmErrorCode.INVALID_DOCUMENT, _("JSON illisible : {error}.").format(error=error)
            ) from error
        if isinstance(document, list):
            return document
        services, definitions = document.get("services", []), document.get("definitions", [])
        if not isinstance(services, list) or not isinstance(definitions, list):
            raise CrmError(
                CrmErrorCode.INVALID_DOCUMENT,
                _("« services » et « definitions » doivent être des listes."),
            )
        by_code = {
            _key(definition.get("service_code")): definition
            for definition in definitions
            if isinstance(definition, dict)
        }
        for service in services:
            if isinstance(service, dict) and "attributes" not in service:
                definition = by_code.get(_key(service.get("service_code")))
                if definition is not None:
                    service["attributes"] = definition.get("attributes", [])
        return services
    try:
        root = ElementTree.fromstring(content)  # noqa: S314  (a file an operator chose)
    except ElementTree.ParseError as error:
        raise CrmError(
            CrmErrorCode.INVALID_DOCUMENT, _("XML illisible : {error}.").format(error=error)
        ) from error
    services = []
    for node in root.iter("service"):
        services.append(
            {
                "service_code": _xml_text(node, "service_code"),
                "service_name": _xml_text(node, "service_name"),
                "description": _xml_text(node, "description"),
                "keywords": _xml_text(node, "keywords"),
                "group": _xml_text(node, "group"),
                "attributes": _xml_attributes(node),
            }
        )
    definitions_by_code = {_xml_text(d, "service_code"): d for d in root.iter("service_definition")}
    for service in services:
        element = definitions_by_code.get(service["service_code"])
        if element is not None and not service["attributes"]:
            service["attributes"] = _xml_attributes(element)
    return services


def _key(value: object) -> str | None:
    """A service code as a lookup key (None for what no code can be: an object, a list)."""
    return str(value) if isinstance(value, str | int | float) else None


# --- Checking the whole document before writing -------------------------------------------------
@dataclass(frozen=True)
class _Choice:
    key: str
    name: str


@dataclass(frozen=True)
class _Question:
    code: str
    datatype: str
    label: str
    required: bool
    order: int
    choices: list[_Choice]


@dataclass(frozen=True)
class _Service:
    code: str
    name: str
    description: str
    keywords: list[str]
    group: str
    questions: list[_Question]


def _text(value: object, *, where: str, name: str, limit: int | None = None) -> str:
    """A field of the document as text: strings and numbers are taken, trimmed, without the
    NUL characters PostgreSQL cannot store, and cut to `limit`; objects and lists refused."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float):  # a bool is an int
        raise CrmError(
            CrmErrorCode.INVALID_SERVICE,
            _("{where} : « {name} » doit être un texte.").format(where=where, name=name),
        )
    return str(value).replace("\x00", "").strip()[:limit].strip()


def _list(value: object, *, where: str, name: str) -> list[Any]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise CrmError(
            CrmErrorCode.INVALID_SERVICE,
            _("{where} : « {name} » doit être une liste.").format(where=where, name=name),
        )
    return value


def _object(value: object, *, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CrmError(
            CrmErrorCode.INVALID_SERVICE, _("{where} : un objet est attendu.").format(where=where)
        )
    return value


def _service(raw: object, position: int) -> _Service:
    where = _("Service n° {position}").format(position=position)
    service = _object(raw, where=where)
    code = relais_code(_text(service.get("service_code"), where=where, name="service_code"))
    name = _text(service.get("service_name"), where=where, name="service_name", limit=200)
    if not code or not name:
        raise CrmError(
            CrmErrorCode.INVALID_SERVICE,
            _("Service n° {position} : le code et le nom sont obligatoires.").format(
                position=position
            ),
        )
    keywords = service.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    elif keywords is not None and not isinstance(keywords, list):
        keywords = [keywords]
    words = [_text(word, where=where, name="keywords", limit=60) for word in keywords or []]
    return _Service(
        code=code,
        name=name,
        description=_text(service.get("description"), where=where, name="description"),
        keywords=[word for word in words if word],
        group=_text(service.get("group"), where=where, name="group", limit=160),
        questions=[
            _question(attribute, position)
            for attribute in _list(service.get("attributes"), where=where, name="attributes")
        ],
    )


def _question(raw: object, position: int) -> _Question:
    where = _("Service n° {position}").format(position=position)
    attribute = _object(raw, where=where)
    code = relais_code(_text(attribute.get("code"), where=where, name="code")).replace("-", "_")
    datatype = _text(attribute.get("datatype"), where=where, name="datatype")
    if not code or datatype not in AttributeDatatype.values:
        raise CrmError(
            CrmErrorCode.INVALID_ATTRIBUTE,
            _(
                "Service n° {position}, champ « {code} » : type de réponse « {datatype} » "
                "inconnu ou code absent."
            ).format(position=position, code=code, datatype=datatype),
        )
    where = _("Service n° {position}, champ « {code} »").format(position=position, code=code)
    label = _text(attribute.get("description"), where=where, name="description", limit=300)
    try:
        order = int(_text(attribute.get("order"), where=where, name="order") or 0)
    except ValueError:
        order = 0
    choices = []
    for value in _list(attribute.get("values"), where=where, name="values"):
        choice = _object(value, where=where)
        key = _text(choice.get("key"), where=where, name="key", limit=60)
        if key:
            name = _text(choice.get("name"), where=where, name="name", limit=200)
            choices.append(_Choice(key=key, name=name or key))
    return _Question(
        code=code,
        datatype=datatype,
        label=label or code,
        required=_truthy(_text(attribute.get("required"), where=where, name="required")),
        # An order is a position on a form: kept within what the column holds.
        order=min(max(order, 0), ORDER_MAX),
        choices=choices,
    )


def _truthy(value: str) -> bool:
    return value.lower() in {"true", "1", "yes", "oui"}


ORDER_MAX = 32767  # PositiveSmallIntegerField


# --- Writing ------------------------------------------------------------------------------------
def open311_services_import(
    *, content: bytes, department: Department, language: str = "fr"
) -> ImportReport:
    """Create or update service types (and their questions) from an Open311 service list.

    The whole document is checked before anything is written; raises CrmError (nothing
    imported) naming the first service at fault."""
    raw_services = parse_services(content)
    if not raw_services:
        raise CrmError(CrmErrorCode.EMPTY_DOCUMENT, _("Le document ne contient aucun service."))
    services: list[_Service] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(raw_services, start=1):
        service = _service(raw, position)
        if service.code in seen:
            raise CrmError(
                CrmErrorCode.DUPLICATE_SERVICE,
                _(
                    "Services n° {first} et {position} : même code une fois converti ({code})."
                ).format(first=seen[service.code], position=position, code=service.code),
            )
        seen[service.code] = position
        services.append(service)
    suffix = "en" if language == "en" else "fr"
    report = ImportReport()
    with transaction.atomic():
        for service in services:
            group = service.group or str(_("Services importés"))
            category, _created = ServiceCategory.objects.get_or_create(
                code=(relais_code(group) or "importes")[:40],
                defaults={f"name_{suffix}": group, "name_fr": group},
            )
            defaults: dict[str, Any] = {
                f"name_{suffix}": service.name,
                f"description_{suffix}": service.description,
                "category": category,
                "department": department,
                "keywords": service.keywords,
            }
            # An English list still needs a French name: the English one, to be translated, but
            # only for a new type (an update never overwrites the town's French text).
            service_type, created = ServiceType.objects.update_or_create(
                code=service.code,
                defaults=defaults,
                create_defaults=defaults | {"name_fr": service.name},
            )
            (report.created if created else report.updated).append(service.code)
            for question in service.questions:
                _import_attribute(service_type, question, suffix)
                report.attributes += 1
    return report


def _import_attribute(service_type: ServiceType, question: _Question, suffix: str) -> None:
    fields: dict[str, Any] = {
        f"label_{suffix}": question.label,
        "datatype": question.datatype,
        "required": question.required,
        "order": question.order,
    }
    attribute, _created = ServiceAttribute.objects.update_or_create(
        service_type=service_type,
        code=question.code,
        defaults=fields,
        create_defaults=fields | {"label_fr": question.label},
    )
    for index, choice in enumerate(question.choices):
        attribute.values.update_or_create(
            key=choice.key,
            defaults={f"name_{suffix}": choice.name, "order": index},
            create_defaults={f"name_{suffix}": choice.name, "name_fr": choice.name, "order": index},
        )
