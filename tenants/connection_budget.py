"""A serving process's database connection is replaced once it has worked in
RELAIS_CONNECTION_MAX_SCHEMAS distinct town schemas.

A PostgreSQL backend keeps in its private memory the catalog and relation caches of every
table it has touched, and each town has its own tables: a connection that serves every town
of a large installation in turn grows by a few hundred KiB per town (bench/RESULTS.md,
"Scale"), for as long as it lives (CONN_MAX_AGE). Counting the schemas a connection has
served and closing it after the request that passes the budget bounds that memory: the next
request opens a fresh, small backend. A connection inside a transaction is never closed.
"""

from __future__ import annotations

import threading

from django.conf import settings

from tenants.db import connection

_state = threading.local()


def schema_served(schema_name: str) -> bool:
    """Note that this thread's connection served `schema_name`; close it if that makes it pass
    its budget (returns True then). Call after the request is answered."""
    raw = connection.connection
    if raw is None:
        return False
    if getattr(_state, "connection_id", None) != id(raw):
        _state.connection_id = id(raw)
        _state.schemas = set()
    _state.schemas.add(schema_name)
    if len(_state.schemas) <= settings.RELAIS_CONNECTION_MAX_SCHEMAS:
        return False
    if connection.in_atomic_block:
        return False
    connection.close()
    _state.connection_id = None
    return True
