"""Import of a service list exported by another city's Open311 GeoReport v2 system.

Accepted: the `services.json` / `services.xml` list, where each service may carry its
definition's `attributes` inline, or a list followed by `service_definition` documents (XML:
`<services>` and `<service_definition>` elements under any root). Codes are made valid Relais
codes (lowercase, `-`), groups become categories, and every service lands in one department.
All or nothing: the first invalid service stops the import with its position and reason.
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

from crm.errors import CrmError
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
    """`Nid de poule #12` → `nid-de-poule-12`: a valid, stable Relais code."""
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode().lower()
    return _NOT_CODE.sub("-", text).strip("-_")[:60]


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


def parse_services(content: bytes) -> list[dict[str, Any]]:
    """The services of a JSON or XML document, each with its `attributes` list if known."""
    text = content.lstrip()
    if text.startswith((b"[", b"{")):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise CrmError(
                "invalid_document", _("JSON illisible : {error}.").format(error=error)
            ) from error
        if isinstance(document, dict):
            services = document.get("services", [])
            definitions = {d.get("service_code"): d for d in document.get("definitions", [])}
            for service in services:
                definition = definitions.get(service.get("service_code"))
                if definition and "attributes" not in service:
                    service["attributes"] = definition.get("attributes", [])
            return list(services)
        return list(document)
    try:
        root = ElementTree.fromstring(content)  # noqa: S314  (a file an operator chose)
    except ElementTree.ParseError as error:
        raise CrmError(
            "invalid_document", _("XML illisible : {error}.").format(error=error)
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
    definitions = {_xml_text(d, "service_code"): d for d in root.iter("service_definition")}
    for service in services:
        definition = definitions.get(service["service_code"])
        if definition is not None and not service["attributes"]:
            service["attributes"] = _xml_attributes(definition)
    return services


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes", "oui"}


def open311_services_import(
    *, content: bytes, department: Department, language: str = "fr"
) -> ImportReport:
    """Create or update service types (and their questions) from an Open311 service list."""
    services = parse_services(content)
    if not services:
        raise CrmError("empty_document", _("Le document ne contient aucun service."))
    seen: dict[str, int] = {}
    for position, service in enumerate(services, start=1):
        if not isinstance(service, dict):
            raise CrmError(
                "invalid_service",
                _("Service n° {position} : un objet est attendu.").format(position=position),
            )
        code = relais_code(service.get("service_code", ""))
        if code and code in seen:
            raise CrmError(
                "duplicate_service",
                _(
                    "Services n° {first} et {position} : même code une fois converti ({code})."
                ).format(first=seen[code], position=position, code=code),
            )
        seen[code] = position
    suffix = "en" if language == "en" else "fr"
    report = ImportReport()
    with transaction.atomic():
        for position, service in enumerate(services, start=1):
            code = relais_code(service.get("service_code", ""))
            name = str(service.get("service_name") or "").strip()
            if not code or not name:
                raise CrmError(
                    "invalid_service",
                    _("Service n° {position} : le code et le nom sont obligatoires.").format(
                        position=position
                    ),
                )
            group = str(service.get("group") or "").strip() or _("Services importés")
            category, _created = ServiceCategory.objects.get_or_create(
                code=(relais_code(group) or "importes")[:40],
                defaults={f"name_{suffix}": group, "name_fr": group},
            )
            keywords = service.get("keywords") or ""
            if isinstance(keywords, str):
                keywords = [k.strip() for k in keywords.split(",") if k.strip()]
            defaults: dict[str, Any] = {
                f"name_{suffix}": name[:200],
                f"description_{suffix}": str(service.get("description") or ""),
                "category": category,
                "department": department,
                "keywords": [str(k)[:60] for k in keywords],
            }
            # An English list still needs a French name: the English one, to be translated, but
            # only for a new type (an update never overwrites the town's French text).
            service_type, created = ServiceType.objects.update_or_create(
                code=code, defaults=defaults, create_defaults=defaults | {"name_fr": name[:200]}
            )
            (report.created if created else report.updated).append(code)
            for attribute in service.get("attributes") or []:
                _import_attribute(service_type, attribute, position, suffix)
                report.attributes += 1
    return report


def _import_attribute(
    service_type: ServiceType, raw: dict[str, Any], position: int, suffix: str
) -> None:
    code = relais_code(raw.get("code", "")).replace("-", "_")
    datatype = str(raw.get("datatype") or "").strip()
    if not code or datatype not in AttributeDatatype.values:
        raise CrmError(
            "invalid_attribute",
            _(
                "Service n° {position}, champ « {code} » : type de réponse « {datatype} » "
                "inconnu ou code absent."
            ).format(position=position, code=raw.get("code", ""), datatype=datatype),
        )
    label = str(raw.get("description") or code).strip()[:300]
    try:
        order = int(str(raw.get("order") or 0))
    except ValueError:
        order = 0
    fields: dict[str, Any] = {
        f"label_{suffix}": label,
        "datatype": datatype,
        "required": _truthy(raw.get("required")),
        "order": max(order, 0),
    }
    attribute, _created = ServiceAttribute.objects.update_or_create(
        service_type=service_type,
        code=code,
        defaults=fields,
        create_defaults=fields | {"label_fr": label},
    )
    for index, value in enumerate(raw.get("values") or []):
        key = str(value.get("key", "")).strip()[:60]
        if not key:
            continue
        value_name = str(value.get("name") or key)[:200]
        attribute.values.update_or_create(
            key=key,
            defaults={f"name_{suffix}": value_name, "order": index},
            create_defaults={f"name_{suffix}": value_name, "name_fr": value_name, "order": index},
        )
