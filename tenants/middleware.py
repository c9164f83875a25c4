"""Routing of each request to its municipality's schema, by host name."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection as default_connection
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django_tenants.postgresql_backend.base import DatabaseWrapper

from tenants import routing
from tenants.models import Municipality

connection = cast(DatabaseWrapper, default_connection)


class TenantRoutingMiddleware:
    """Bind the request to its town's schema, or to the platform on the base domain.

    Unlike django-tenants' stock middleware, the host lookup is served from the in-process
    routing table (no SQL query), and the connection's tenant is only changed when the town
    differs from the previous request's, so `search_path` is not re-sent on every request.
    An unknown host gets a 404 page of its own, never the platform's site; a suspended town
    gets a maintenance page (503) and an archived one a 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            host, _port = split_domain_port(request.get_host())
        except DisallowedHost:
            return _page("errors/unknown_host.html", {}, status=404)
        host = host.lower()
        if host == settings.RELAIS_BASE_DOMAIN:
            if connection.schema_name != "public":
                connection.set_schema_to_public()
            request.tenant = connection.tenant  # type: ignore[attr-defined]
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
            return self.get_response(request)

        municipality = routing.municipality_for_host(host)
        if municipality is None or municipality.status == Municipality.Status.ARCHIVED:
            return _page("errors/unknown_host.html", {"host": host}, status=404)
        if municipality.status == Municipality.Status.SUSPENDED:
            response = _page("errors/suspended.html", {"municipality": municipality}, status=503)
            response["Retry-After"] = "3600"
            return response

        if connection.tenant is not municipality:
            connection.set_tenant(municipality)
        request.tenant = municipality  # type: ignore[attr-defined]
        request.urlconf = settings.ROOT_URLCONF  # type: ignore[attr-defined]
        return self.get_response(request)


def _page(template: str, context: dict[str, object], *, status: int) -> HttpResponse:
    # Rendered without a request: these pages must not depend on a session or a database.
    return HttpResponse(render_to_string(template, context), status=status)
