"""REST API views: parse with a serializer, call one crm service or selector, serialize.

Every list runs a constant number of queries whatever the page size (select_related and
prefetch_related), and pages with an opaque cursor.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from crm import selectors, services
from crm.api.rest import serializers as io
from crm.api.rest.permissions import HasRole
from crm.api.throttling import WindowThrottled
from crm.errors import CrmError, CrmErrorCode
from crm.models import Citizen, ServiceRequest, Visibility
from crm.roles import (
    ADMINISTRATOR,
    AGENT,
    CITIZEN,
    DEPARTMENT,
    DISPATCH_ROLES,
    KEY,
    PUBLIC,
    STAFF_ROLES,
    SUPERVISOR,
    Viewer,
    viewer_of,
)
from crm.search import faq_search

EVERYONE = (PUBLIC, CITIZEN, KEY, *STAFF_ROLES)
STAFF = tuple(STAFF_ROLES)
ERRORS = {
    400: io.ApiErrorEnvelope,
    401: io.ApiErrorEnvelope,
    403: io.ApiErrorEnvelope,
    404: io.ApiErrorEnvelope,
    409: io.ApiErrorEnvelope,
    429: io.ApiErrorEnvelope,
    503: io.ApiErrorEnvelope,  # the database is unreachable for a moment: retry (Retry-After)
}
# Operations with a body also refuse a body they cannot parse (a bad Content-Type).
WRITE_ERRORS = {**ERRORS, 415: io.ApiErrorEnvelope}
# The URL's <int:pk> takes digits only: a negative id never reaches the view.
CITIZEN_ID = OpenApiParameter(
    "id", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH, required=True
)


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class ApiView(WindowThrottled, GenericAPIView):
    permission_classes = [HasRole]
    allowed_roles: tuple[str, ...] = ()

    @property
    def viewer(self) -> Viewer:
        return viewer_of(self.request)


# --- Catalog -------------------------------------------------------------------------------------


class ServiceTypeList(ApiView):
    """The town's service catalog (public types; staff also see internal ones)."""

    allowed_roles = EVERYONE
    serializer_class = io.ServiceTypeOut
    pagination_class = None

    @extend_schema(responses={200: io.ServiceTypeOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        types = selectors.service_types_offered(viewer=self.viewer)
        return Response(io.ServiceTypeOut(types, many=True).data)


class ServiceTypeDetail(ApiView):
    allowed_roles = EVERYONE
    serializer_class = io.ServiceTypeOut

    @extend_schema(responses={200: io.ServiceTypeOut, **ERRORS})
    def get(self, request: Request, code: str) -> Response:
        service_type = selectors.service_type_offered(viewer=self.viewer, code=code)
        if service_type is None:
            raise Http404
        return Response(io.ServiceTypeOut(service_type).data)


# --- Information bank ----------------------------------------------------------------------------


class FaqSearch(ApiView):
    """Search the information bank (French and English, accents ignored). Staff also see the
    articles written for agents."""

    allowed_roles = EVERYONE
    serializer_class = io.FaqHitOut

    @extend_schema(parameters=[io.FaqSearchIn], responses={200: io.FaqHitOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        query = io.FaqSearchIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        hits = faq_search(
            query=query.validated_data["q"],
            audience=self.viewer.faq_audience,
            language=get_language() or "fr",
            limit=query.validated_data["limit"],
        )
        return Response(io.FaqHitOut(hits, many=True).data)


# --- Requests ------------------------------------------------------------------------------------


def _serializer_context(viewer: Viewer) -> dict[str, Any]:
    return {"staff": viewer.is_staff}


class RequestFilters(io.RequestViewIn):
    status = serializers.CharField(required=False)
    service_code = serializers.CharField(required=False)
    department = serializers.CharField(required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


def _log_citizens_seen(viewer: Viewer, shown: list[ServiceRequest], purpose: str | None) -> None:
    services.access_log_requests_shown(
        viewer=viewer, service_requests=shown, purpose=purpose, context="api"
    )


class RequestListCreate(ApiView):
    """GET: requests the caller may see, newest first, with filters and cursor paging; for
    staff, each citizen shown is written to the Law 25 access log (optional `purpose`).
    POST: a new request (staff for any channel, citizens from the app, write keys as API)."""

    roles_by_method = {
        "GET": (CITIZEN, KEY, *STAFF_ROLES),
        "POST": (CITIZEN, KEY, ADMINISTRATOR, AGENT, SUPERVISOR, DEPARTMENT),
    }
    pagination_class = NewestFirst
    serializer_class = io.RequestOut

    @extend_schema(parameters=[RequestFilters], responses={200: io.RequestOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        filters = RequestFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        requests = selectors.request_list(
            viewer=self.viewer,
            filters=selectors.RequestFilters(
                statuses=frozenset(data["status"].split(",")) if "status" in data else frozenset(),
                service_codes=(data["service_code"],) if "service_code" in data else (),
                department_code=data.get("department", ""),
                created_after=data.get("created_after"),
                created_before=data.get("created_before"),
            ),
        )
        page = self.paginate_queryset(requests) or []
        _log_citizens_seen(self.viewer, page, data.get("purpose"))
        body = io.RequestOut(page, many=True, context=_serializer_context(self.viewer)).data
        return self.get_paginated_response(body)

    @extend_schema(request=io.RequestCreateIn, responses={201: io.RequestDetailOut, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        payload = io.RequestCreateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        viewer = self.viewer
        service_type = selectors.service_type_for_intake(viewer=viewer, code=data["service_code"])
        if service_type is None:
            raise CrmError(
                CrmErrorCode.UNKNOWN_SERVICE,
                _("Le type de requête {code} n'existe pas.").format(code=data["service_code"]),
                field="service_code",
                status=404,
            )
        service_request = services.request_intake(
            viewer=viewer,
            service_type=service_type,
            channel=data.get("channel"),
            citizen_id=data.get("citizen_id"),
            description=data.get("description", ""),
            address=data.get("address", ""),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            attributes=data.get("attributes"),
            priority=data.get("priority"),
            media_url=data.get("media_url", ""),
        )
        return Response(
            _detail(service_request, viewer, created=True), status=status.HTTP_201_CREATED
        )


def _detail(service_request: ServiceRequest, viewer: Viewer, *, created: bool = False) -> Any:
    written = service_request.written_events if created else None
    if written is None:
        events = selectors.request_events_visible(viewer=viewer, service_request=service_request)
    else:  # a new request's timeline is what its creation wrote
        events = [e for e in written if viewer.is_staff or e.visibility == Visibility.PUBLIC]
    context = {**_serializer_context(viewer), "events": events}
    data = io.RequestDetailOut(service_request, context=context).data
    # The tracking token follows a request only to whoever may follow it.
    if not (viewer.follows_requests or created):
        data.pop("tracking_token", None)
    return data


def _visible_request(viewer: Viewer, number: str) -> ServiceRequest:
    return selectors.request_for(viewer=viewer, number=number)


class RequestDetail(ApiView):
    """A request with its timeline; for staff, its citizen is written to the Law 25 access log
    (optional `purpose`, else « Traitement de la requête … »)."""

    allowed_roles = (CITIZEN, KEY, *STAFF_ROLES)
    serializer_class = io.RequestDetailOut

    @extend_schema(parameters=[io.RequestViewIn], responses={200: io.RequestDetailOut, **ERRORS})
    def get(self, request: Request, number: str) -> Response:
        query = io.RequestViewIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        service_request = _visible_request(self.viewer, number)
        _log_citizens_seen(self.viewer, [service_request], query.validated_data.get("purpose"))
        return Response(_detail(service_request, self.viewer))


class RequestStatusChange(ApiView):
    """Move a request along the workflow (staff; department staff in their department)."""

    allowed_roles = STAFF
    serializer_class = io.StatusChangeIn

    @extend_schema(request=io.StatusChangeIn, responses={200: io.RequestDetailOut, **WRITE_ERRORS})
    def post(self, request: Request, number: str) -> Response:
        service_request = _visible_request(self.viewer, number)
        payload = io.StatusChangeIn(data=request.data)
        payload.is_valid(raise_exception=True)
        service_request = services.request_change_status(
            actor=self.viewer.user,
            service_request=service_request,
            status=payload.validated_data["status"],
            message=payload.validated_data.get("message", ""),
        )
        _log_citizens_seen(self.viewer, [service_request], None)  # the answer shows them
        return Response(_detail(service_request, self.viewer))


class RequestAssignment(ApiView):
    """Give a request to a department and/or a person (agents, supervisors, administrators;
    a supervisor within their department)."""

    allowed_roles = tuple(sorted(DISPATCH_ROLES))
    serializer_class = io.AssignmentIn

    @extend_schema(request=io.AssignmentIn, responses={200: io.RequestDetailOut, **WRITE_ERRORS})
    def post(self, request: Request, number: str) -> Response:
        viewer = self.viewer
        service_request = _visible_request(viewer, number)
        payload = io.AssignmentIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        service_request = services.request_dispatch(
            viewer=viewer,
            service_request=service_request,
            department_code=data.get("department") or "",
            assignee_email=data.get("assignee") or "",
        )
        _log_citizens_seen(viewer, [service_request], None)  # the answer shows them
        return Response(_detail(service_request, viewer))


class _RequestMessage(ApiView):
    allowed_roles = STAFF
    serializer_class = io.MessageIn
    public = False

    @extend_schema(request=io.MessageIn, responses={201: io.EventOut, **WRITE_ERRORS})
    def post(self, request: Request, number: str) -> Response:
        service_request = _visible_request(self.viewer, number)
        payload = io.MessageIn(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.request_add_note(
            actor=self.viewer.user,
            service_request=service_request,
            message=payload.validated_data["message"],
            public=self.public,
        )
        return Response(io.EventOut(event).data, status=status.HTTP_201_CREATED)


class RequestReply(_RequestMessage):
    """A public reply: the citizen sees it on the request's timeline."""

    public = True


class RequestNote(_RequestMessage):
    """An internal note: staff only, never shown to the citizen."""

    public = False


# --- Citizens and interactions (staff only; every read is in the Law 25 access log) ------------


class CitizenListCreate(ApiView):
    """GET: search citizens by name, e-mail or phone (a `purpose` is required and logged).
    POST: a new citizen record."""

    allowed_roles = (ADMINISTRATOR, AGENT, SUPERVISOR)
    pagination_class = NewestFirst
    serializer_class = io.CitizenOut

    @extend_schema(
        parameters=[io.CitizenSearchIn], responses={200: io.CitizenOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        query = io.CitizenSearchIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        text = query.validated_data.get("q", "").strip()
        citizens = selectors.citizen_search(query=text)
        page = self.paginate_queryset(citizens)
        services.access_list_log_record(
            actor=self.viewer.user,
            purpose=query.validated_data["purpose"],
            context="api",
            details=_("Recherche « {q} », {n} résultat(s)").format(q=text, n=len(page or [])),
        )
        return self.get_paginated_response(io.CitizenOut(page, many=True).data)

    @extend_schema(request=io.CitizenIn, responses={201: io.CitizenOut, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        payload = io.CitizenIn(data=request.data)
        payload.is_valid(raise_exception=True)
        citizen = services.citizen_create(actor=self.viewer.user, **payload.validated_data)
        return Response(io.CitizenOut(citizen).data, status=status.HTTP_201_CREATED)


class CitizenDetail(ApiView):
    allowed_roles = (ADMINISTRATOR, AGENT, SUPERVISOR)
    serializer_class = io.CitizenOut

    @extend_schema(
        parameters=[CITIZEN_ID, io.CitizenViewIn], responses={200: io.CitizenOut, **ERRORS}
    )
    def get(self, request: Request, pk: int) -> Response:
        query = io.CitizenViewIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        citizen = selectors.citizen_for(viewer=self.viewer, pk=pk)
        services.access_log_record(
            actor=self.viewer.user,
            citizen=citizen,
            action="view",
            purpose=query.validated_data["purpose"],
            context="api",
        )
        return Response(io.CitizenOut(citizen).data)


class InteractionListCreate(ApiView):
    """Contacts with citizens: the source of first-contact-resolution figures. A listing names
    citizens: it needs a `purpose` and is written to the Law 25 access log; a supervisor sees
    their department's."""

    allowed_roles = (ADMINISTRATOR, AGENT, SUPERVISOR)
    pagination_class = NewestFirst
    serializer_class = io.InteractionOut

    @extend_schema(
        parameters=[io.CitizenViewIn], responses={200: io.InteractionOut(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        query = io.CitizenViewIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        interactions = selectors.interaction_list(viewer=self.viewer)
        page = self.paginate_queryset(interactions)
        services.access_list_log_record(
            actor=self.viewer.user,
            purpose=query.validated_data["purpose"],
            context="api",
            details=_("Liste des interactions, {n} ligne(s)").format(n=len(page or [])),
        )
        return self.get_paginated_response(io.InteractionOut(page, many=True).data)

    @extend_schema(request=io.InteractionIn, responses={201: io.InteractionOut, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        payload = io.InteractionIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        interaction = services.interaction_log(
            viewer=self.viewer,
            channel=data["channel"],
            summary=data["summary"],
            citizen_id=data.get("citizen_id"),
            request_number=data.get("request_number") or "",
            faq_article_ids=data.get("faq_article_ids", []),
            duration_seconds=data["duration_seconds"],
            resolved_at_first_contact=data["resolved_at_first_contact"],
        )
        return Response(io.InteractionOut(interaction).data, status=status.HTTP_201_CREATED)


# --- The signed-in citizen (mobile app) ----------------------------------------------------------


class MyRequests(ApiView):
    """The signed-in citizen's own requests, newest first."""

    allowed_roles = (CITIZEN,)
    pagination_class = NewestFirst
    serializer_class = io.RequestOut

    @extend_schema(responses={200: io.RequestOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.request_list(viewer=self.viewer))
        return self.get_paginated_response(io.RequestOut(page, many=True).data)


class MyPreferences(ApiView):
    """The signed-in citizen's language and how they want to be told about their requests."""

    allowed_roles = (CITIZEN,)
    serializer_class = io.PreferencesSerializer

    def _out(self, citizen: Citizen) -> dict[str, Any]:
        return {
            "preferred_language": citizen.preferred_language,
            "notify_by_email": citizen.notify_by_email,
            "notify_by_sms": citizen.notify_by_sms,
            "notify_by_phone": citizen.notify_by_phone,
        }

    @extend_schema(responses={200: io.PreferencesSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        assert self.viewer.citizen is not None  # noqa: S101  (role CITIZEN carries it)
        return Response(self._out(self.viewer.citizen))

    @extend_schema(
        request=io.PreferencesSerializer, responses={200: io.PreferencesSerializer, **WRITE_ERRORS}
    )
    def patch(self, request: Request) -> Response:
        payload = io.PreferencesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assert self.viewer.citizen is not None  # noqa: S101
        citizen = services.citizen_update(
            actor=self.viewer.user, citizen=self.viewer.citizen, **payload.validated_data
        )
        return Response(self._out(citizen))


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/: the API's 404, in its error shape (never the HTML page)."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": _("Ressource introuvable.")}}, status=404
    )
