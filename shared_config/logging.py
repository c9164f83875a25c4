"""Logging helpers: every record carries the schema (town) it was emitted for."""

from __future__ import annotations

import logging

from django.db import connection


class SchemaNameFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.schema_name = getattr(connection, "schema_name", None) or "-"
        return True
