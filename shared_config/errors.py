"""Errors answered before (or instead of) a view, in the shape the client expects.

The REST API answers `{"error": {"code", "message"}}`, Open311 its `[{"code", "description"}]`
(XML for a `.xml` path), allauth's headless API `{"status", "errors": [...]}`, and pages an HTML
page in the town's colours. Django's own handlers (400, 403, 404, 500) and the request-hygiene
middleware go through here, so that an error raised before a view reaches a client in its own
format, never as Django's bare HTML.
"""

from __future__ import annotations

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from tenants.requests import town_of

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"
HEADLESS_PREFIX = "/_allauth/"


def _page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    template = {404: "404.html", 500: "500.html", 503: "503.html"}.get(status, "400.html")
    context = {
        "message": message,
        "status": status,
        "municipality": town_of(request),
    }
    return HttpResponse(render_to_string(template, context, request=None), status=status)


def error_response(request: HttpRequest, *, status: int, code: str, message: str) -> HttpResponse:
    """An error of `status` in the format of the interface `request` was sent to."""
    path = request.path_info
    if path.startswith(OPEN311_PREFIX):
        from crm.api.open311.errors import open311_error_response

        return open311_error_response(request, status=status, description=message)
    if path.startswith(API_PREFIX):
        from crm.api.rest.errors import error_body

        return JsonResponse(
            error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False}
        )
    if path.startswith(HEADLESS_PREFIX):
        body: dict[str, Any] = {"status": status, "errors": [{"code": code, "message": message}]}
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return _page(request, status, message)


def language_for(request: HttpRequest) -> str:
    """The language of an error answered before a view: Open311's clients choose it with
    Accept-Language; pages and the other APIs by the path (`/en/…`), French otherwise."""
    if request.path_info.startswith(OPEN311_PREFIX):
        from crm.api.open311.params import language_of

        return language_of(request)
    return translation.get_language_from_path(request.path_info) or "fr"


# Django's handlers, named in both URL configurations (base domain and towns).
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    with translation.override(language_for(request)):
        return error_response(
            request, status=400, code="bad_request", message=_("La demande est mal formée.")
        )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    with translation.override(language_for(request)):
        message = str(exception) if exception and str(exception) else _("Accès refusé.")
        if not request.path_info.startswith((API_PREFIX, OPEN311_PREFIX, HEADLESS_PREFIX)):
            from django.views.defaults import permission_denied as page

            return page(request, exception or PermissionError())
        return error_response(request, status=403, code="permission_denied", message=message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path_info.startswith((API_PREFIX, OPEN311_PREFIX, HEADLESS_PREFIX)):
        from django.views.defaults import page_not_found as page

        return page(request, exception or Exception())
    with translation.override(language_for(request)):
        return error_response(
            request, status=404, code="not_found", message=_("Ressource introuvable.")
        )


def server_error(request: HttpRequest) -> HttpResponse:
    """A failure of the server; 503 with Retry-After when the database is unreachable for a
    moment (a restart, a failover), which clears by itself."""
    from crm.api.unavailable import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable

    failure = sys.exc_info()[1]
    with translation.override(language_for(request)):
        if isinstance(failure, DATABASE_UNAVAILABLE):
            response = error_response(
                request,
                status=503,
                code="service_unavailable",
                message=database_unavailable(failure),
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return error_response(
            request,
            status=500,
            code="server_error",
            message=_(
                "Une erreur est survenue ; elle a été signalée à l'équipe technique. "
                "Réessayez dans quelques minutes."
            ),
        )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form or API call without its CSRF token (CSRF_FAILURE_VIEW): the APIs answer in
    their format, pages with Django's page (templates/403_csrf.html)."""
    if not request.path_info.startswith((API_PREFIX, OPEN311_PREFIX, HEADLESS_PREFIX)):
        from django.views.csrf import csrf_failure as page

        return page(request, reason)
    with translation.override(language_for(request)):
        message = _("Jeton CSRF manquant ou invalide : rechargez la page et réessayez.")
        return error_response(request, status=403, code="csrf_failed", message=message)
