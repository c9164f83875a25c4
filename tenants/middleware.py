"""Routing of each request to its town's schema, by host name."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.template.loader import render_to_string

from shared_config import health, metrics
from tenants import connection_budget, routing
from tenants.db import connection
from tenants.models import Municipality
from tenants.requests import bind_platform, bind_town

# Answered here, after the schema is bound and before the rest of the stack: on every host,
# whatever the town's status, and for a probe that uses a bare address as its host.
HEALTH_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": health.healthz,
    "/readyz": health.readyz,
    "/metrics": metrics.metrics,
}


class TenantRoutingMiddleware:
    """Bind the request to its town's schema, or to the platform on the base domain.

    Unlike django-tenants' stock middleware, the host lookup is served from the in-process
    routing table (no SQL query), and the connection's tenant is only changed when the town
    differs from the previous request's, so `search_path` is not re-sent on every request.
    An unknown host gets a 404 page of its own, never the platform's site; a suspended town
    gets a maintenance page (503) and an archived one a 404. The health paths answer on every
    host, whatever the town's status (a probe may use any host, or a bare address).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        health_view = HEALTH_VIEWS.get(request.path_info)
        is_health = health_view is not None
        try:
            host = split_domain_port(request.get_host())[0].lower()
        except DisallowedHost:
            if not is_health:
                return _unknown_host("")
            host = settings.RELAIS_BASE_DOMAIN
        route = None if host == settings.RELAIS_BASE_DOMAIN else routing.route_for_host(host)

        if route is None:
            if host != settings.RELAIS_BASE_DOMAIN and not is_health:
                return _unknown_host(host)
            self._bind_public()
            if health_view is not None:
                return health_view(request)
            return self.get_response(bind_platform(request, connection.tenant))

        if not is_health:
            if route.status == Municipality.Status.ARCHIVED:
                return _unknown_host(host)
            if route.status == Municipality.Status.SUSPENDED:
                return _maintenance(route)
        if connection.tenant is not route:
            connection.set_tenant(route)
        if health_view is not None:
            return health_view(request)
        response = self.get_response(bind_town(request, route))
        connection_budget.schema_served(route.schema_name)
        return response

    @staticmethod
    def _bind_public() -> None:
        if connection.schema_name != "public":
            connection.set_schema_to_public()


def _unknown_host(host: str) -> HttpResponse:
    # Nothing of a town is served: logs and error reports must not name the previous one.
    TenantRoutingMiddleware._bind_public()
    return HttpResponse(render_to_string("errors/unknown_host.html", {"host": host}), status=404)


class MaintenanceResponse(HttpResponse):
    """A suspended town's page (503). A planned suspension is not a server error: Django's
    request logging skips a response marked as already logged, which keeps it out of the error
    log and alerts."""

    status_code = 503
    _has_been_logged = True


def _maintenance(route: routing.TownRoute) -> HttpResponse:
    TenantRoutingMiddleware._bind_public()
    response = MaintenanceResponse(
        render_to_string("errors/suspended.html", {"municipality": route})
    )
    response["Retry-After"] = "3600"
    return response
