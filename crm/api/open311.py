"""Open311 GeoReport v2 on each town's host (/open311/v2/), in JSON and XML.

https://wiki.open311.org/GeoReport_v2 — `discovery`, `services`, `services/{code}`,
`requests` (GET and POST), `requests/{id}` and `tokens/{token}`, plus the common extensions:
`page`/`page_size` paging and `extensions=true` (extended_attributes).

- Only public, active service types are offered; only requests of public types are shown.
- GETs need no key; a key that is sent must be valid. POST needs an active key with the write
  scope (`api_key`, or the REST API's headers). Keys live in each town's schema: another
  town's key is unknown here.
- GETs never return personal data: no citizen, e-mail, phone, name, device or account id.
- Errors are Open311's: `[{"code": 400, "description": "…"}]` (XML `<errors><error>`): 403 for
  a missing, unknown, revoked or read-only key, 404 for an unknown resource, format or
  jurisdiction, 429 (with Retry-After) over the rate, 400 for any other bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.authentication import key_from_headers
from crm.api.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable
from crm.api.open311_renderers import (
    Open311JSONRenderer,
    Open311XMLRenderer,
    SuffixNegotiation,
    to_xml,
)
from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle
from crm.errors import CrmError
from crm.models import (
    OPEN_STATUSES,
    ApiKey,
    AttributeDatatype,
    Channel,
    Citizen,
    RequestEvent,
    RequestStatus,
    ServiceAttribute,
    ServiceRequest,
    ServiceType,
    SlaUnit,
    Visibility,
)
from crm.selectors import api_key_for, service_type_for_intake
from crm.services import api_key_touch, citizen_create, normalize_phone, request_create
from tenants import routing

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed (discovery's `changeset`).
CHANGESET = "2026-11-22T00:00:00Z"
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


class Open311Error(exceptions.APIException):
    """An Open311 error with its HTTP status and a French (or English) description."""

    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code


def bad_request(description: str) -> Open311Error:
    return Open311Error(status.HTTP_400_BAD_REQUEST, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(status.HTTP_404_NOT_FOUND, description)


def forbidden(description: str) -> Open311Error:
    return Open311Error(status.HTTP_403_FORBIDDEN, description)


def errors_body(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def open311_error_response(request: HttpRequest, *, status: int, description: str) -> HttpResponse:
    """An Open311 error answered outside a view (request hygiene, Django's error handlers), in
    the format of the path's suffix."""
    body = errors_body(status, description)
    if request.path_info.lower().endswith(".xml"):
        return HttpResponse(
            to_xml("errors", body), status=status, content_type="text/xml; charset=utf-8"
        )
    return HttpResponse(
        Open311JSONRenderer().render(body),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def open311_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """Every failure in Open311's format, with the specification's statuses."""
    headers: dict[str, str] = {}
    if isinstance(exc, Open311Error):
        code, description = exc.status_code, str(exc.detail)
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        code, description = status.HTTP_503_SERVICE_UNAVAILABLE, database_unavailable(exc)
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif isinstance(exc, CrmError):
        # The spec knows 400, 403 and 404; a conflict (409…) is a request it cannot fulfil.
        code = exc.status if exc.status in (403, 404) else 400
        description = exc.message
    elif isinstance(exc, exceptions.Throttled):
        code = status.HTTP_429_TOO_MANY_REQUESTS
        wait = math.ceil(exc.wait) if exc.wait is not None else 60
        headers["Retry-After"] = str(max(wait, 1))
        description = ngettext(
            "Trop de requêtes. Réessayez dans {seconds} seconde.",
            "Trop de requêtes. Réessayez dans {seconds} secondes.",
            max(wait, 1),
        ).format(seconds=max(wait, 1))
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code, description = 403, _("Clé d'API (api_key) manquante ou invalide.")
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        code, description = 403, _("Accès refusé.")
    elif isinstance(exc, exceptions.NotFound | Http404):
        code = 404
        description = (
            str(exc.detail) if isinstance(exc, exceptions.NotFound) else _("Ressource introuvable.")
        )
    elif isinstance(exc, exceptions.MethodNotAllowed):
        code = status.HTTP_405_METHOD_NOT_ALLOWED
        description = _("Méthode {method} non permise ici.").format(
            method=str(getattr(context.get("request"), "method", ""))[:10]
        )
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        code = 400
        description = _(
            "Envoyez les données en application/x-www-form-urlencoded (ou multipart/form-data)."
        )
    elif isinstance(exc, exceptions.ParseError):
        code, description = 400, _("Données illisibles.")
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code if exc.status_code in (403, 404) else 400
        description = str(exc.detail)
    else:
        return None
    return Response(errors_body(code, description), status=code, headers=headers)


# --- Keys and parameters -------------------------------------------------------------------------
class _InvalidKey:
    """A key was sent but is unknown here (or revoked): refused once throttling has counted it."""


INVALID_KEY = _InvalidKey()


class Open311KeyAuthentication(BaseAuthentication):
    """`api_key` in the query or the form, or the REST API's `Authorization: Api-Key …` /
    `X-Api-Key` headers. `request.auth` is the ApiKey, INVALID_KEY, or None when none is sent."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = request.query_params.get("api_key") or ""
        if not raw and request.method == "POST":
            value = request.data.get("api_key") if hasattr(request.data, "get") else None
            raw = value if isinstance(value, str) else ""
        raw = raw.strip() or (key_from_headers(request) or "")
        if not raw:
            return None
        # A NUL never gets here (shared_config.middleware refuses it before any view).
        api_key = api_key_for(key=raw)
        if api_key is None:
            return AnonymousUser(), INVALID_KEY
        api_key_touch(api_key=api_key)
        return AnonymousUser(), api_key


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


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return timezone.localtime(moment, zone).isoformat(timespec="seconds") if moment else None


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


def _datatype_description(attribute: ServiceAttribute) -> str | None:
    if attribute.datatype == AttributeDatatype.DATETIME:
        return _("Date et heure ISO 8601 avec fuseau, p. ex. 2026-11-22T14:30:00-05:00.")
    if attribute.datatype == AttributeDatatype.NUMBER:
        return _("Un nombre, p. ex. 12 ou 3.5.")
    if attribute.datatype == AttributeDatatype.MULTI:
        return _("Une ou plusieurs des valeurs proposées (key).")
    if attribute.datatype == AttributeDatatype.SINGLE:
        return _("Une des valeurs proposées (key).")
    return None


# --- Reads ---------------------------------------------------------------------------------------
def offered_service_types() -> QuerySet[ServiceType]:
    """Public, active types: those Open311 lists and accepts."""
    return ServiceType.objects.filter(is_public=True, is_active=True)


def published_requests() -> QuerySet[ServiceRequest]:
    """Requests of public types, with what an Open311 answer shows, in two queries whatever
    their number: the rows (with type, department and duplicate parent) and their public
    events."""
    public_events = RequestEvent.objects.filter(visibility=Visibility.PUBLIC).order_by(
        "created_at", "id"
    )
    return (
        ServiceRequest.objects.filter(service_type__is_public=True)
        .select_related("service_type", "department", "duplicate_of")
        .prefetch_related(Prefetch("events", queryset=public_events, to_attr="public_events"))
        .order_by("-created_at", "-id")
    )


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


def request_page(query: RequestQuery) -> list[ServiceRequest]:
    requests = published_requests()
    if query.ids:
        # The specification: service_request_id overrides every other filter.
        requests = requests.filter(number__in=query.ids)
    else:
        requests = requests.filter(created_at__gte=query.start, created_at__lte=query.end)
        if query.service_codes:
            requests = requests.filter(service_type__code__in=query.service_codes)
        if query.statuses:
            requests = requests.filter(status__in=query.statuses)
    offset = (query.page - 1) * query.page_size
    return list(requests[offset : offset + query.page_size])


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


def find_or_create_citizen(
    *, email: str, phone: str, first_name: str, last_name: str, language: str
) -> Citizen | None:
    """The citizen with this e-mail, else with this phone (and no other e-mail on file), else
    a new record; None when no contact data is given. A merged record is returned as is:
    request_create follows it to the record it was merged into."""
    if not (email or phone or first_name or last_name):
        return None
    phone_digits = normalize_phone(phone) if phone else ""
    if phone and len(phone_digits) != 10:
        raise bad_request(
            _("Le numéro de téléphone {phone} doit compter 10 chiffres.").format(phone=phone[:40])
        )
    active_first = (F("merged_into").asc(nulls_first=True), "pk")
    citizen = None
    if email:
        citizen = Citizen.objects.filter(email__iexact=email).order_by(*active_first).first()
    if citizen is None and phone_digits:
        same_phone = Citizen.objects.filter(phone=phone_digits)
        if email:
            same_phone = same_phone.filter(Q(email="") | Q(email__iexact=email))
        citizen = same_phone.order_by(*active_first).first()
    if citizen is not None:
        return citizen
    return citizen_create(
        actor=None,
        email=email,
        phone=phone_digits,
        first_name=first_name,
        last_name=last_name,
        preferred_language=language,
    )


# --- Views ---------------------------------------------------------------------------------------
class Open311View(APIView):
    authentication_classes: ClassVar[list[type[BaseAuthentication]]] = [Open311KeyAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ApiKeyThrottle, ClientAddressThrottle]
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    parser_classes = [FormParser, MultiPartParser]
    content_negotiation_class = SuffixNegotiation
    metadata_class = None
    xml_root = "response"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        language = language_of(request)
        with translation.override(language):
            response = super().dispatch(request, *args, **kwargs)
        response["Content-Language"] = language
        return response

    def get_exception_handler(self) -> Any:
        return open311_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.auth is INVALID_KEY:
            raise forbidden(_("Clé d'API (api_key) inconnue ou révoquée."))
        if request.method == "POST" and hasattr(self, "post"):
            if request.auth is None:
                raise forbidden(_("Une clé d'API (api_key) est requise pour créer une requête."))
            if not request.auth.can_write:
                raise forbidden(
                    _("Cette clé d'API est en lecture seule : elle ne peut pas créer de requête.")
                )
        self._check_jurisdiction(request)

    def param(self, name: str) -> str | None:
        """A parameter, None when absent or empty (the spec: empty is not declared)."""
        request = self.request
        value: Any = None
        if request.method == "POST" and hasattr(request.data, "get"):
            value = request.data.get(name)
        if value is None:
            value = request.query_params.get(name)
        if not isinstance(value, str):
            return None
        value = value.strip()
        return value or None

    def _check_jurisdiction(self, request: Request) -> None:
        jurisdiction = self.param("jurisdiction_id")
        if jurisdiction is None:
            return
        tenant = request.tenant
        host = split_domain_port(request.get_host())[0].lower()
        known = {host} | {
            name
            for name, route in routing.current_table().towns_by_host.items()
            if route.pk == tenant.pk
        }
        if jurisdiction.lower() not in known:
            raise not_found(
                _("jurisdiction_id inconnu : « {jurisdiction} ». Utilisez {host}.").format(
                    jurisdiction=jurisdiction[:100], host=host
                )
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.request.tenant.time_zone)


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request: Request, format: str) -> Response:
        tenant = request.tenant
        base = request.build_absolute_uri("/open311/v2/")
        return Response(
            {
                "changeset": CHANGESET,
                "contact": _("{town}, requêtes citoyennes : {url}").format(
                    town=tenant.public_name, url=request.build_absolute_uri("/")
                ),
                "key_service": _(
                    "Les clés d'API sont délivrées par l'administration municipale de {town}."
                ).format(town=tenant.public_name),
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": base,
                        "changeset": CHANGESET,
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            }
        )


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


class ServiceListView(Open311View):
    xml_root = "services"

    def get(self, request: Request, format: str) -> Response:
        service_types = (
            offered_service_types()
            .select_related("category")
            .annotate(attribute_count=Count("attributes"))
            .order_by("category__order", "category__name_fr", "name_fr")
        )
        return Response([service_data(service_type) for service_type in service_types])


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request: Request, service_code: str, format: str) -> Response:
        service_type = (
            offered_service_types()
            .filter(code=service_code)
            .prefetch_related("attributes__values")
            .first()
        )
        if service_type is None:
            raise not_found(_("service_code inconnu : « {code} ».").format(code=service_code[:60]))
        attributes = []
        for position, attribute in enumerate(service_type.attributes.all(), start=1):
            item: dict[str, Any] = {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": _datatype_description(attribute),
                "order": position,
                "description": attribute.localized("label"),
            }
            if attribute.is_list:
                item["values"] = [
                    {"key": value.key, "name": value.localized("name")}
                    for value in attribute.values.all()
                ]
            attributes.append(item)
        return Response({"service_code": service_type.code, "attributes": attributes})


class RequestListView(Open311View):
    xml_root = "service_requests"

    def get(self, request: Request, format: str) -> Response:
        names = (
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
            "page",
            "page_size",
            "extensions",
        )
        query = request_query({name: self.param(name) for name in names}, timezone.now())
        zone = self.zone
        return Response(
            [
                request_data(service_request, zone=zone, extensions=query.extensions)
                for service_request in request_page(query)
            ]
        )

    def post(self, request: Request, format: str) -> Response:
        api_key: ApiKey = request.auth
        code = self.param("service_code")
        if code is None:
            raise bad_request(_("service_code est requis."))
        service_type = service_type_for_intake(code=code)
        if service_type is None or not service_type.is_public:
            raise not_found(_("service_code inconnu : « {code} ».").format(code=code[:60]))
        latitude, longitude = self.param("lat"), self.param("long")
        address, address_id = self.param("address_string"), self.param("address_id")
        if latitude is None and longitude is None and address is None and address_id is None:
            raise bad_request(_("Donnez un lieu : lat et long, address_string ou address_id."))
        if address is not None and len(address) > ADDRESS_MAX:
            raise bad_request(
                _("address_string dépasse {limit} caractères.").format(limit=ADDRESS_MAX)
            )
        intake: dict[str, str] = {}
        for name in ("device_id", "account_id", "address_id"):
            value = self.param(name)
            if value is None:
                continue
            if len(value) > MAX_FIELD:
                raise bad_request(
                    _("{name} dépasse {limit} caractères.").format(name=name, limit=MAX_FIELD)
                )
            intake[name] = value
        if address is None and address_id is not None:
            address = _("Identifiant d'adresse {address_id}").format(address_id=address_id)
        answers = attribute_answers(request.data, service_type)
        with transaction.atomic():
            citizen = find_or_create_citizen(
                email=self.param("email") or "",
                phone=self.param("phone") or "",
                first_name=self.param("first_name") or "",
                last_name=self.param("last_name") or "",
                language=translation.get_language() or "fr",
            )
            service_request = request_create(
                actor=None,
                service_type=service_type,
                channel=Channel.API,
                channel_detail=api_key.name,
                description=self.param("description") or "",
                citizen=citizen,
                address=address or "",
                latitude=latitude,
                longitude=longitude,
                attributes=answers,
                media_url=self.param("media_url") or "",
                intake_data=intake,
            )
        return Response(
            [
                {
                    "service_request_id": service_request.number,
                    "service_notice": service_notice(service_type),
                    "account_id": None,
                }
            ],
            status=status.HTTP_201_CREATED,
        )


class RequestDetailView(Open311View):
    xml_root = "service_requests"

    def get(self, request: Request, service_request_id: str, format: str) -> Response:
        extensions = is_true(self.param("extensions"))
        service_request = published_requests().filter(number=service_request_id).first()
        if service_request is None:
            raise not_found(_("Requête inconnue : « {id} ».").format(id=service_request_id[:40]))
        return Response([request_data(service_request, zone=self.zone, extensions=extensions)])


class TokenView(Open311View):
    xml_root = "service_requests"

    def get(self, request: Request, token: str, format: str) -> Response:
        number = (
            ServiceRequest.objects.filter(tracking_token=token, service_type__is_public=True)
            .values_list("number", flat=True)
            .first()
        )
        if number is None:
            raise not_found(_("Jeton inconnu : « {token} ».").format(token=token[:40]))
        return Response([{"service_request_id": number, "token": token}])


class NotFoundView(Open311View):
    """Anything else under /open311/v2/: a 404 in Open311's format (XML for a `.xml` path)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        APIView.initial(self, request, *args, **kwargs)  # throttled like the rest, then refused
        raise not_found(
            _("Ressource Open311 inconnue. Voyez {url}.").format(
                url=request.build_absolute_uri("/open311/v2/discovery.json")
            )
        )

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        if request.path.lower().endswith(".xml"):
            return Open311XMLRenderer(), Open311XMLRenderer.media_type
        return Open311JSONRenderer(), Open311JSONRenderer.media_type

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise not_found("")

    post = put = patch = delete = get
