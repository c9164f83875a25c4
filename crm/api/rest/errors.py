"""One JSON shape for every REST API error:

    {"error": {"code": "invalid", "message": "…", "fields": {"field": ["…"]}}}

CrmError, Django's ValidationError, Http404 and PermissionDenied included; a database that is
unreachable (a restart, a failover) is a 503 with Retry-After, never an HTML error page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crm.api.unavailable import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable
from crm.errors import CrmError

logger = logging.getLogger(__name__)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return Response(
            error_body("service_unavailable", database_unavailable(exc)),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, CrmError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else None
        )
        return Response(
            error_body("invalid", " ".join(exc.messages), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Ressource introuvable."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "invalid", _("Certaines données sont invalides."), _flatten(detail)
        )
    else:
        code = exc.default_code if isinstance(exc, exceptions.APIException) else "error"
        message = detail.get("detail", "") if isinstance(detail, dict) else str(detail)
        response.data = error_body(str(getattr(message, "code", code) or code), str(message))
    return response
