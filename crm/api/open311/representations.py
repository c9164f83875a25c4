"""How Open311 shows a service and a request: the specification's fields, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.models import (
    OPEN_STATUSES,
    AttributeDatatype,
    RequestEvent,
    ServiceAttribute,
    ServiceRequest,
    ServiceType,
    SlaUnit,
)
from crm.selectors import published_page_rows


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return timezone.localtime(moment, zone).isoformat(timespec="seconds") if moment else None


def service_notice(service_type: ServiceType) -> str | None:
    """The town's target delay for this type of request, if it has one."""
    value = service_type.sla_value
    if not value:
        return None
    if service_type.sla_unit == SlaUnit.HOURS:
        text = ngettext(
            "Délai de traitement visé : {count} heure ouvrable.",
            "Délai de traitement visé : {count} heures ouvrables.",
            value,
        )
    else:
        text = ngettext(
            "Délai de traitement visé : {count} jour ouvrable.",
            "Délai de traitement visé : {count} jours ouvrables.",
            value,
        )
    return text.format(count=value)


def datatype_description(attribute: ServiceAttribute) -> str | None:
    if attribute.datatype == AttributeDatatype.DATETIME:
        return _("Date et heure ISO 8601 avec fuseau, p. ex. 2026-11-22T14:30:00-05:00.")
    if attribute.datatype == AttributeDatatype.NUMBER:
        return _("Un nombre, p. ex. 12 ou 3.5.")
    if attribute.datatype == AttributeDatatype.MULTI:
        return _("Une ou plusieurs des valeurs proposées (key).")
    if attribute.datatype == AttributeDatatype.SINGLE:
        return _("Une des valeurs proposées (key).")
    return None


def request_data(
    service_request: ServiceRequest, *, zone: ZoneInfo, extensions: bool
) -> dict[str, Any]:
    """One request as Open311 shows it: never the citizen, nor the intake's device data."""
    events: list[RequestEvent] = getattr(service_request, "public_events", [])
    notes = [event for event in events if event.message.strip()]
    created = next((event for event in events if event.kind == "created"), None)
    address_id = (created.data or {}).get("address_id") if created else None
    service_type = service_request.service_type
    data: dict[str, Any] = {
        "service_request_id": service_request.number,
        "status": "open" if service_request.status in OPEN_STATUSES else "closed",
        "status_notes": notes[-1].message if notes else None,
        "service_name": service_type.localized("name"),
        "service_code": service_type.code,
        "description": service_request.description or None,
        "agency_responsible": service_request.department.localized("name"),
        "service_notice": service_notice(service_type),
        "requested_datetime": _iso(service_request.created_at, zone),
        "updated_datetime": _iso(service_request.updated_at, zone),
        "expected_datetime": _iso(service_request.sla_due_at, zone),
        "address": service_request.address or None,
        "address_id": str(address_id) if address_id else None,
        "zipcode": None,
        "lat": float(service_request.latitude) if service_request.latitude is not None else None,
        "long": (
            float(service_request.longitude) if service_request.longitude is not None else None
        ),
        "media_url": service_request.media_url or None,
    }
    if extensions:
        parent = service_request.duplicate_of
        data["extended_attributes"] = {
            "channel": service_request.channel,
            "status_detail": service_request.status,
            "duplicate_of": parent.number if parent is not None else None,
            "public_notes": [
                {"datetime": _iso(event.created_at, zone), "message": event.message}
                for event in notes
            ],
            "attributes": [
                {"code": code, "value": value}
                for code, value in sorted((service_request.attributes or {}).items())
            ],
        }
    return data


def request_page_data(
    requests: QuerySet[ServiceRequest], *, zone: ZoneInfo, extensions: bool
) -> list[dict[str, Any]]:
    """`request_data` of each request of a page (a sliced query of the published register),
    from plain rows: a page holds up to 1,000 requests, and building a model for each request,
    its type, its department and its events took most of the page's time. The types' and
    departments' texts are made once per page. A test holds the two to the same output
    (tests/crm/test_open311_read.py)."""
    rows, types_found, departments_found, events = published_page_rows(
        requests, extensions=extensions
    )
    if not rows:
        return []
    types = {
        pk: (service_type.localized("name"), service_type.code, service_notice(service_type))
        for pk, service_type in types_found.items()
    }
    departments = {pk: department.localized("name") for pk, department in departments_found.items()}
    notes: dict[int, list[tuple[datetime, str]]] = {}
    address_ids: dict[int, object] = {}
    for request_id, kind, message, created_at, event_data in events:
        if message.strip():
            notes.setdefault(request_id, []).append((created_at, message))
        if kind == "created" and request_id not in address_ids:
            address_ids[request_id] = (event_data or {}).get("address_id")
    page = []
    for row in rows:
        name, code, notice = types[row["service_type_id"]]
        own_notes = notes.get(row["id"], [])
        address_id = address_ids.get(row["id"])
        latitude, longitude = row["latitude"], row["longitude"]
        data: dict[str, Any] = {
            "service_request_id": row["number"],
            "status": "open" if row["status"] in OPEN_STATUSES else "closed",
            "status_notes": own_notes[-1][1] if own_notes else None,
            "service_name": name,
            "service_code": code,
            "description": row["description"] or None,
            "agency_responsible": departments[row["department_id"]],
            "service_notice": notice,
            "requested_datetime": _iso(row["created_at"], zone),
            "updated_datetime": _iso(row["updated_at"], zone),
            "expected_datetime": _iso(row["sla_due_at"], zone),
            "address": row["address"] or None,
            "address_id": str(address_id) if address_id else None,
            "zipcode": None,
            "lat": float(latitude) if latitude is not None else None,
            "long": float(longitude) if longitude is not None else None,
            "media_url": row["media_url"] or None,
        }
        if extensions:
            data["extended_attributes"] = {
                "channel": row["channel"],
                "status_detail": row["status"],
                "duplicate_of": row["duplicate_of__number"],
                "public_notes": [
                    {"datetime": _iso(at, zone), "message": message} for at, message in own_notes
                ],
                "attributes": [
                    {"code": code, "value": value}
                    for code, value in sorted((row["attributes"] or {}).items())
                ],
            }
        page.append(data)
    return page


def service_data(service_type: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service_type.code,
        "service_name": service_type.localized("name"),
        "description": service_type.localized("description"),
        "metadata": bool(getattr(service_type, "attribute_count", 0)),
        "type": "realtime",
        "keywords": ", ".join(service_type.keywords),
        "group": service_type.category.localized("name"),
    }
