"""Logging helpers: every record carries the schema (town) it was emitted for, and the
request or task it belongs to; `JsonFormatter` writes one JSON object per line."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from shared_config.log_paths import loggable_path
from shared_config.observability import request_id_var, task_id_var


class SchemaNameFilter(logging.Filter):
    """Adds `schema_name` (the town), `request_id` and `task_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.schema_name = getattr(connection, "schema_name", None) or "-"
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "task_id"):
            record.task_id = task_id_var.get()
        return True


# The fields a record may carry beyond the message, written when set (RequestLogMiddleware's
# and the task worker's). Nothing else of a record's `extra` is written: a field added
# somewhere later cannot leak into the logs unnoticed.
JSON_FIELDS = (
    "request_id",
    "task_id",
    "task",
    "method",
    "route",
    "status",
    "duration_ms",
    "user_id",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, town (`schema`), message, the
    fields of JSON_FIELDS that are set, and the exception's traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "schema": getattr(record, "schema_name", None) or "-",
            "message": record.getMessage(),
        }
        for name in JSON_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_QUERY = re.compile(r"\?\S*")


class NoQueryStringFilter(logging.Filter):
    """Drop query strings from request lines logged by the development server
    (`"GET /admin/crm/citizen/?q=514-555-0199 HTTP/1.1" 200`): a search can carry a phone
    number, an e-mail or a tracking token, which have no place in a log (Law 25); and the
    secrets some paths carry (shared_config.log_paths). gunicorn's and nginx's access logs in
    deploy/ do the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            method, _space, rest = _QUERY.sub("", record.args[0], count=1).partition(" ")
            path, _space, protocol = rest.partition(" ")
            line = f"{method} {loggable_path(path)} {protocol}".strip()
            record.args = (line, *record.args[1:])
        return True


class SecretPathFilter(logging.Filter):
    """`django.request` names the path of a request it could not serve ("Not Found: %s",
    "Internal Server Error: %s"): the path without the secret some carry (a reset link, an
    unfollow link)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                loggable_path(_QUERY.sub("", arg))
                if isinstance(arg, str) and arg.startswith("/")
                else arg
                for arg in record.args
            )
        return True
