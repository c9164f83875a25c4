"""Open311's parameters, validated: the client's language, dates, paging, filters and attribute
answers. A bad one is an Open311 400."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from crm.api.open311.errors import bad_request
from crm.models import (
    OPEN_STATUSES,
    AttributeDatatype,
    RequestStatus,
    ServiceType,
)

WINDOW = timedelta(days=90)


MAX_PAGE_SIZE = 1000  # the specification's limit on one answer


MAX_PAGE = 1_000_000


MAX_IDS = 1000


MAX_FIELD = 200  # device_id, account_id, address_id


ADDRESS_MAX = 300


_NUMBER = re.compile(r"^\s*\d{1,9}\s*$")


_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")


CLOSED_STATUSES = frozenset(RequestStatus.values) - OPEN_STATUSES


STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}


def language_of(request: HttpRequest) -> str:
    """English when the client's Accept-Language prefers it, French otherwise."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    best, best_q = "fr", -1.0
    for part in header.split(",")[:20]:
        tag, _sep, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        if language not in ("fr", "en"):
            continue
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if quality > best_q:
            best, best_q = language, quality
    return best


def _parse_moment(raw: str, name: str) -> datetime:
    example = "2026-01-01T00:00:00-05:00"
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_request(
            _("{name} doit être une date et heure W3C avec fuseau (p. ex. {example}).").format(
                name=name, example=example
            )
        )
    try:
        # Dates at the ends of the calendar overflow once shifted: refuse them as bad dates.
        moment.astimezone(ZoneInfo("UTC"))
        moment + WINDOW
        moment - WINDOW
    except OverflowError as error:
        raise bad_request(_("{name} est hors des dates possibles.").format(name=name)) from error
    return moment


def _positive(raw: str | None, name: str, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not _NUMBER.match(raw) or not 1 <= int(raw) <= maximum:
        raise bad_request(
            _("{name} doit être un entier de 1 à {maximum}.").format(name=name, maximum=maximum)
        )
    return int(raw)


def is_true(raw: str | None) -> bool:
    return (raw or "").lower() in ("true", "1")


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str]
    service_codes: list[str]
    statuses: set[str]
    start: datetime
    end: datetime
    page: int
    page_size: int
    extensions: bool


def request_query(params: Mapping[str, str | None], now: datetime) -> RequestQuery:
    """The GET requests filters, validated. Raises Open311Error (400) for a bad one."""
    ids = _split(params.get("service_request_id"))
    if len(ids) > MAX_IDS:
        raise bad_request(_("Au plus {limit} service_request_id à la fois.").format(limit=MAX_IDS))
    statuses: set[str] = set()
    for value in _split(params.get("status")):
        group = STATUS_GROUPS.get(value.lower())
        if group is None:
            raise bad_request(
                _("Statut inconnu : « {status} » (open ou closed).").format(status=value[:40])
            )
        statuses |= group
    raw_start, raw_end = params.get("start_date"), params.get("end_date")
    if raw_start and raw_end:
        start, end = _parse_moment(raw_start, "start_date"), _parse_moment(raw_end, "end_date")
    elif raw_start:
        start = _parse_moment(raw_start, "start_date")
        end = start + WINDOW
    else:
        end = _parse_moment(raw_end, "end_date") if raw_end else now
        start = end - WINDOW
    if end < start:
        raise bad_request(_("end_date précède start_date."))
    if end - start > WINDOW:
        raise bad_request(_("La période demandée dépasse 90 jours."))
    return RequestQuery(
        ids=ids,
        service_codes=_split(params.get("service_code")),
        statuses=statuses,
        start=start,
        end=end,
        page=_positive(params.get("page"), "page", 1, MAX_PAGE),
        page_size=_positive(params.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        extensions=is_true(params.get("extensions")),
    )


# --- Writes --------------------------------------------------------------------------------------
def attribute_answers(data: Any, service_type: ServiceType) -> dict[str, str | list[str]]:
    """`attribute[code]=v`, and for a multivaluelist `attribute[code][]=v` (or the same
    `attribute[code]` repeated), as answers for crm.attributes.clean_answers."""
    by_code = {attribute.code: attribute for attribute in service_type.attributes.all()}
    values: dict[str, list[str]] = {}
    for key in data:
        match = _ATTRIBUTE.match(str(key))
        if match is None:
            continue
        given = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        values.setdefault(match.group(1), []).extend(str(v) for v in given)
    answers: dict[str, str | list[str]] = {}
    for code, given in values.items():
        attribute = by_code.get(code)
        if attribute is not None and attribute.datatype == AttributeDatatype.MULTI:
            answers[code] = given if len(given) > 1 else given[0]
        elif len(given) > 1:
            raise bad_request(
                _("Une seule valeur est permise pour attribute[{code}].").format(code=code)
            )
        else:
            answers[code] = given[0]
    return answers
