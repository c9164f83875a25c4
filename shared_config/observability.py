"""What ties a log line, an error report or a task to the request it came from.

Each request gets an id: the one nginx (or another proxy) sent in `X-Request-ID` when it is
well formed, else a new one. It is returned in the answer's `X-Request-ID` header, carried by
every log line written while the request runs, stored with each task the request queues
(`tenants.tasks_backend`) and carried again by the log lines of that task in the worker. The
process's role (web, worker, command) tags its error reports.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

request_id_var: ContextVar[str | None] = ContextVar("relais_request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("relais_task_id", default=None)

# An id we did not make is kept only if it cannot forge a log line or carry data: letters,
# digits and a few separators (nginx's $request_id is 32 hex digits, a UUID has dashes).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

logger = logging.getLogger("relais.request")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

# What this process is, for error reports: "web" (the WSGI application), "worker"
# (db_worker) or "command" (any other manage.py command), set once at start-up.
_role = "command"


def set_role(role: str) -> None:
    global _role
    _role = role


def role() -> str:
    return _role


def new_request_id() -> str:
    return uuid.uuid4().hex


def incoming_request_id(value: str | None) -> str:
    """The proxy's id when it is well formed, else a new one."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, if the request already knew who it was: never a query of its
    own (a lazy user nobody looked at stays unevaluated). The id only: never a name or
    e-mail (Law 25)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return getattr(wrapped, "pk", None)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)
    return "-"


class RequestLogMiddleware:
    """First in the stack: gives the request its id, and writes one line when it is answered
    (method, route name, status, duration, town, user id; never the path's query string, the
    body or anything typed by a person)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Here, not at the top: this module is imported before Django is set up (wsgi.py).
        from shared_config.metrics import request_observe

        self.get_response = get_response
        self.request_observe = request_observe

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request.headers.get("X-Request-ID"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self.request_observe(request, response.status_code, time.perf_counter() - started)
            fields: dict[str, Any] = {
                "method": request.method,
                "route": _route(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": _user_id(request),
            }
            level = logging.INFO
            if response.status_code >= 500:
                # Not ERROR: django.request already logs the error with its traceback, and
                # Sentry would make an event of each ERROR line (a second one per failure).
                level = logging.WARNING
            elif request.path_info in _PROBES:
                level = logging.DEBUG  # a probe every few seconds per process: not news
            logger.log(
                level,
                "%s %s %s %.1f ms",
                request.method,
                fields["route"],
                response.status_code,
                fields["duration_ms"],
                extra=fields,
            )
            return response
        finally:
            request_id_var.reset(token)
