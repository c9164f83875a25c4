"""Logging helpers: every record carries the schema (town) it was emitted for."""

from __future__ import annotations

import logging
import re

from django.db import connection

from shared_config.log_paths import loggable_path


class SchemaNameFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.schema_name = getattr(connection, "schema_name", None) or "-"
        return True


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
