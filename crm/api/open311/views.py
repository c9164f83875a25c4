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

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import selectors, services
from crm.api.authentication import key_from_headers
from crm.api.open311.errors import bad_request, forbidden, not_found, open311_exception_handler
from crm.api.open311.params import (
    ADDRESS_MAX,
    MAX_FIELD,
    RequestQuery,
    attribute_answers,
    is_true,
    language_of,
    request_query,
)
from crm.api.open311.renderers import (
    Open311JSONRenderer,
    Open311XMLRenderer,
    SuffixNegotiation,
)
from crm.api.open311.representations import (
    datatype_description,
    request_data,
    request_page_data,
    service_data,
    service_notice,
)
from crm.api.throttling import ApiKeyThrottle, ClientAddressThrottle, WindowThrottled
from crm.models import (
    ServiceRequest,
)
from crm.roles import PUBLISHED_REGISTER, viewer_of
from crm.selectors import api_key_for
from crm.services import (
    IntakeContact,
    api_key_touch,
)
from tenants import routing

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


# When this endpoint's behaviour last changed (discovery's `changeset`).
CHANGESET = "2026-11-22T00:00:00Z"


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


def _request_page(query: RequestQuery) -> QuerySet[ServiceRequest]:
    """One page of the published register, as the query asks (`service_request_id` overrides
    every other filter: the specification's rule)."""
    filters = selectors.RequestFilters(
        numbers=tuple(query.ids),
        service_codes=tuple(query.service_codes),
        statuses=frozenset(query.statuses),
        created_after=query.start,
        created_until=query.end,
    )
    offset = (query.page - 1) * query.page_size
    requests = selectors.request_list(viewer=PUBLISHED_REGISTER, filters=filters)
    return requests[offset : offset + query.page_size]


# --- Views ---------------------------------------------------------------------------------------
class Open311View(WindowThrottled, APIView):
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


class ServiceListView(Open311View):
    xml_root = "services"

    def get(self, request: Request, format: str) -> Response:
        service_types = selectors.service_type_directory(viewer=PUBLISHED_REGISTER)
        return Response([service_data(service_type) for service_type in service_types])


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request: Request, service_code: str, format: str) -> Response:
        service_type = selectors.service_type_offered(viewer=PUBLISHED_REGISTER, code=service_code)
        if service_type is None:
            raise not_found(_("service_code inconnu : « {code} ».").format(code=service_code[:60]))
        attributes = []
        for position, attribute in enumerate(service_type.attributes.all(), start=1):
            item: dict[str, Any] = {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": datatype_description(attribute),
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
        return Response(
            request_page_data(_request_page(query), zone=self.zone, extensions=query.extensions)
        )

    def post(self, request: Request, format: str) -> Response:
        code = self.param("service_code")
        if code is None:
            raise bad_request(_("service_code est requis."))
        viewer = viewer_of(request)
        service_type = selectors.service_type_for_intake(viewer=viewer, code=code)
        if service_type is None:
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
        service_request = services.request_intake(
            viewer=viewer,
            service_type=service_type,
            contact=IntakeContact(
                email=self.param("email") or "",
                phone=self.param("phone") or "",
                first_name=self.param("first_name") or "",
                last_name=self.param("last_name") or "",
                language=translation.get_language() or "fr",
            ),
            description=self.param("description") or "",
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
        service_request = selectors.request_list(
            viewer=PUBLISHED_REGISTER,
            filters=selectors.RequestFilters(numbers=(service_request_id,)),
        ).first()
        if service_request is None:
            raise not_found(_("Requête inconnue : « {id} ».").format(id=service_request_id[:40]))
        return Response([request_data(service_request, zone=self.zone, extensions=extensions)])


class TokenView(Open311View):
    xml_root = "service_requests"

    def get(self, request: Request, token: str, format: str) -> Response:
        number = selectors.request_number_of_token(token=token)
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
