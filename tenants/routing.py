"""Host → town routing table, cached in each process.

The whole table (every domain with its town) is one small query: ~1,100 towns with a few
domains each. A worker loads it once, then answers every request from memory, unknown hosts
included, so routing costs no SQL query per request. The table holds frozen snapshots
(`TownRoute`), never model instances, so nothing a request or an uncommitted transaction does
can change what other requests see.

A change made through the tenancy services (or any `save()`/`delete()` of a domain or a
municipality) clears this process's table when its transaction commits, and sends a PostgreSQL
`NOTIFY relais_routing` in that same transaction: PostgreSQL delivers it at the commit (never
for a rollback) to every process listening, which clears its table at once. Each serving
process listens from a thread of its own, on a connection of its own, started with its first
routed request (RELAIS_ROUTING_LISTEN, on by default). The periodic reload
(RELAIS_ROUTING_CACHE_SECONDS) stays as the safety net: a listener that lost its connection
clears the table again when it is back, since it may have missed a change. If the database
cannot be read at reload time, the previous table keeps serving and the reload is retried a few
seconds later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.signals import post_delete, post_save

from tenants.models import Domain, Municipality

logger = logging.getLogger(__name__)
RETRY_AFTER_FAILURE_SECONDS = 5.0
# The PostgreSQL channel every serving process listens on.
CHANNEL = "relais_routing"


@dataclass(frozen=True)
class TownRoute:
    """What serving a town's pages needs, copied from its row at load time.

    It is what `request.tenant` holds on a town's host, and what the connection is bound to
    (django-tenants only needs `schema_name`).
    """

    pk: int
    schema_name: str
    slug: str
    name: str
    display_name: str
    kind: str
    status: str
    languages: tuple[str, ...]
    time_zone: str
    privacy_officer_name: str
    privacy_officer_email: str
    primary_colour: str
    logo_url: str

    @property
    def public_name(self) -> str:
        return self.display_name or self.name

    @classmethod
    def of(cls, town: Municipality) -> TownRoute:
        return cls(
            pk=town.pk,
            schema_name=town.schema_name,
            slug=town.slug,
            name=town.name,
            display_name=town.display_name,
            kind=town.kind,
            status=town.status,
            languages=tuple(town.languages),
            time_zone=town.time_zone,
            privacy_officer_name=town.privacy_officer_name,
            privacy_officer_email=town.privacy_officer_email,
            primary_colour=town.primary_colour,
            logo_url=town.logo.url if town.logo else "",
        )


@dataclass(frozen=True)
class RoutingTable:
    towns_by_host: dict[str, TownRoute]
    expires_at: float


_lock = threading.Lock()
_table: RoutingTable | None = None


def _load() -> RoutingTable:
    routes: dict[int, TownRoute] = {}
    towns_by_host: dict[str, TownRoute] = {}
    for domain in Domain.objects.select_related("tenant"):
        # One route per town, whatever the number of its domains.
        route = routes.setdefault(domain.tenant.pk, TownRoute.of(domain.tenant))
        towns_by_host[domain.domain.lower()] = route
    return RoutingTable(
        towns_by_host=towns_by_host,
        expires_at=time.monotonic() + settings.RELAIS_ROUTING_CACHE_SECONDS,
    )


def current_table() -> RoutingTable:
    global _table
    if settings.RELAIS_ROUTING_LISTEN:
        _ensure_listener()
    table = _table
    if table is not None and time.monotonic() < table.expires_at:
        return table
    with _lock:
        table = _table
        if table is not None and time.monotonic() < table.expires_at:
            return table
        try:
            _table = _load()
        except DatabaseError:
            if table is None:
                raise
            logger.warning("routing table reload failed; serving the previous one")
            _table = RoutingTable(
                towns_by_host=table.towns_by_host,
                expires_at=time.monotonic() + RETRY_AFTER_FAILURE_SECONDS,
            )
        return _table


def route_for_host(host: str) -> TownRoute | None:
    """The town that `host` (lowercase, no port) serves, or None if no town has it."""
    return current_table().towns_by_host.get(host)


def invalidate() -> None:
    """Forget this process's table; the next request reloads it."""
    global _table
    with _lock:
        _table = None


def notify_change() -> None:
    """Tell every process that routing changed: the NOTIFY rides on the caller's transaction
    (delivered when it commits, dropped if it rolls back)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


def _invalidate_after_commit(**_kwargs: Any) -> None:
    transaction.on_commit(invalidate)
    notify_change()


# --- The listener: one thread per process ---------------------------------------------------------
# Not Django's connection (it belongs to the request threads): its own, in autocommit, with TCP
# keepalives so that a vanished server is noticed within a minute.
LISTEN_POLL_SECONDS = 5.0
_LIBPQ_ONLY = ("context", "cursor_factory", "prepare_threshold", "server_side_binding", "pool")


class _Listener(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="relais-routing-listener", daemon=True)
        self.listening = threading.Event()
        self.stopping = threading.Event()
        params = connections["default"].get_connection_params()
        self.params = {k: v for k, v in params.items() if k not in _LIBPQ_ONLY} | {
            "autocommit": True,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "application_name": "relais-routing-listener",
        }

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(**self.params) as listening:
                    listening.execute(f"LISTEN {CHANNEL}")
                    invalidate()  # whatever changed while nobody listened
                    self.listening.set()
                    while not self.stopping.is_set():
                        for _notice in listening.notifies(timeout=LISTEN_POLL_SECONDS):
                            invalidate()
            except psycopg.Error as error:
                self.listening.clear()
                logger.warning("routing listener: %s; again in %s s", type(error).__name__, 5)
                self.stopping.wait(RETRY_AFTER_FAILURE_SECONDS)


_listener: _Listener | None = None
_listener_pid = 0


def _ensure_listener() -> None:
    """Start this process's listener (again after a fork: threads do not survive one)."""
    global _listener, _listener_pid
    if _listener is not None and _listener_pid == os.getpid() and _listener.is_alive():
        return
    with _lock:
        if _listener is not None and _listener_pid == os.getpid() and _listener.is_alive():
            return
        _listener = _Listener()
        _listener_pid = os.getpid()
        _listener.start()


def listener_ready(timeout: float) -> bool:
    """Whether this process listens (for `/readyz` and the tests)."""
    return _listener is not None and _listener.listening.wait(timeout)


def stop_listener() -> None:
    global _listener
    if _listener is not None:
        _listener.stopping.set()
        _listener.join(LISTEN_POLL_SECONDS + 1)
        _listener = None


def connect_invalidation() -> None:
    for model in (Domain, Municipality):
        post_save.connect(_invalidate_after_commit, sender=model, dispatch_uid=f"routing-{model}")
        post_delete.connect(
            _invalidate_after_commit, sender=model, dispatch_uid=f"routing-del-{model}"
        )
