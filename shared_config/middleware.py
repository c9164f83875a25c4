"""Request hygiene: input no view can use is refused before any view or query sees it.

- A NUL character anywhere a view could read it (path, query string, headers, cookies, form
  fields, a JSON or text body): PostgreSQL text cannot hold one, so a query would fail with a
  500. File contents of multipart uploads are not text and are not inspected.
- A JSON body nested deeper than Python's parser can follow (a RecursionError in any view
  that reads JSON: the REST API, allauth's headless API).
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE, or more fields or files than Django accepts: read
  here, so that the refusal comes in the client's format rather than as Django's bare page.

Each refusal is a 400 (413 for a body too large) in the format of the interface the request
was sent to (shared_config.errors) and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext as _

from shared_config.errors import API_PREFIX, HEADLESS_PREFIX, error_response, language_for

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Bodies that are not text: their bytes are not inspected.
BINARY_TYPES = ("application/octet-stream", "image/", "audio/", "video/", "application/pdf")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _nul_refusal() -> _Refused:
    return _Refused(
        400, "nul_character", _("Les données ne peuvent pas contenir de caractère nul.")
    )


def _has_nul(value: Any) -> bool:
    """Whether a decoded JSON document holds a NUL in any key or string (iterative: the
    document may be deep)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _check_headers(request: HttpRequest) -> None:
    if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
        raise _nul_refusal()
    if any(NUL in value for value in request.GET.values()) or any(
        NUL in key for key in request.GET
    ):
        raise _nul_refusal()
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            raise _nul_refusal()


def _check_json(body: bytes) -> None:
    try:
        document = json.loads(body)
    except RecursionError as error:
        message = _("Le document JSON est imbriqué trop profondément.")
        raise _Refused(400, "too_deep", message) from error
    except ValueError:
        return  # unreadable JSON: the view answers in its own words
    if _has_nul(document):
        raise _nul_refusal()


def _check_body(request: HttpRequest) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    path = request.path_info
    content_type = (request.content_type or "").lower()
    # allauth's headless API reads every body as JSON, whatever its declared type: its bodies
    # are read whole (refused past the size limit) and checked as JSON.
    if path.startswith(HEADLESS_PREFIX):
        body = request.body  # raises RequestDataTooBig
        if body:
            _check_json(body)
        return
    if content_type.startswith(BINARY_TYPES):
        return
    # Read the body first when it fits in memory: a form is then parsed from it, and a view
    # can still read `request.body`. A larger form is a file upload: parsed from the stream,
    # its files never held in memory.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or _content_length(request) <= limit:
        body = request.body
    elif content_type.startswith(FORM_TYPES):
        body = b""
    else:
        body = request.body  # raises RequestDataTooBig
    if content_type.startswith(FORM_TYPES):
        fields = request.POST
        if any(NUL in key for key in fields) or any(
            NUL in value for key in fields for value in fields.getlist(key)
        ):
            raise _nul_refusal()
        names = (
            upload.name or "" for key in request.FILES for upload in request.FILES.getlist(key)
        )
        if any(NUL in name for name in names):
            raise _nul_refusal()
        return
    if not body:
        return
    # Only the APIs read JSON: elsewhere a body is not parsed (nor held as objects), only
    # searched for a NUL.
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if is_json and path.startswith(API_PREFIX):
        _check_json(body)
    elif b"\x00" in body or (is_json and b"\\u0000" in body):
        raise _nul_refusal()


class RequestHygieneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with translation.override(language_for(request)):
            refusal = _refusal(request)
            if refusal is not None:
                return error_response(
                    request, status=refusal.status, code=refusal.code, message=refusal.message
                )
        return self.get_response(request)


def _refusal(request: HttpRequest) -> _Refused | None:
    try:
        _check_headers(request)
        _check_body(request)
    except _Refused as refusal:
        return refusal
    except RequestDataTooBig:
        return _Refused(413, "too_large", _("Le corps de la requête est trop volumineux."))
    except (TooManyFieldsSent, TooManyFilesSent):
        return _Refused(400, "too_many_fields", _("La requête a trop de champs."))
    except MultiPartParserError:
        return _Refused(400, "unreadable", _("Le formulaire envoyé est illisible."))
    return None
