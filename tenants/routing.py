"""Host → town routing table, cached in each process.

The whole table (every domain with its town) is one small query: ~1,100 towns with a few
domains each. A worker loads it once, then answers every request from memory, unknown hosts
included, so routing costs no SQL query per request. The table holds frozen snapshots
(`TownRoute`), never model instances, so nothing a request or an uncommitted transaction does
can change what other requests see.

A change made through the tenancy services (or any `save()`/`delete()` of a domain or a
municipality) clears this process's table when its transaction commits; other processes reload
theirs within RELAIS_ROUTING_CACHE_SECONDS. If the database cannot be read at reload time, the
previous table keeps serving and the reload is retried a few seconds later.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save

from tenants.models import Domain, Municipality

logger = logging.getLogger(__name__)
RETRY_AFTER_FAILURE_SECONDS = 5.0


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


def _invalidate_after_commit(**_kwargs: Any) -> None:
    transaction.on_commit(invalidate)


def connect_invalidation() -> None:
    for model in (Domain, Municipality):
        post_save.connect(_invalidate_after_commit, sender=model, dispatch_uid=f"routing-{model}")
        post_delete.connect(
            _invalidate_after_commit, sender=model, dispatch_uid=f"routing-del-{model}"
        )
