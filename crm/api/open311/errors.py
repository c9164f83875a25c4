"""Open311's errors: `[{"code": 400, "description": "…"}]` (XML `<errors><error>`), with the
specification's statuses, whatever failed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response

from crm.api.open311.renderers import (
    Open311JSONRenderer,
    to_xml,
)
from crm.api.unavailable import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable
from crm.errors import CrmError


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
