"""Host → municipality routing table, cached in each process.

The whole table (every domain with its town) is one small query: ~1,100 towns with a few
domains each. A worker loads it once, then answers every request from memory, unknown hosts
included, so routing costs no SQL query per request. A change to a domain or a municipality
clears this process's table when its transaction commits; other processes reload theirs within
RELAIS_ROUTING_CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from tenants.models import Domain, Municipality


@dataclass(frozen=True)
class RoutingTable:
    towns_by_host: dict[str, Municipality]
    loaded_at: float


_lock = threading.Lock()
_table: RoutingTable | None = None


def _load() -> RoutingTable:
    towns: dict[int, Municipality] = {}
    towns_by_host: dict[str, Municipality] = {}
    for domain in Domain.objects.select_related("tenant"):
        # One shared instance per town, whatever the number of its domains.
        town = towns.setdefault(domain.tenant.pk, domain.tenant)
        towns_by_host[domain.domain.lower()] = town
    return RoutingTable(towns_by_host=towns_by_host, loaded_at=time.monotonic())


def current_table() -> RoutingTable:
    global _table
    table = _table
    if table is None or time.monotonic() - table.loaded_at > settings.RELAIS_ROUTING_CACHE_SECONDS:
        with _lock:
            table = _table
            if (
                table is None
                or time.monotonic() - table.loaded_at > settings.RELAIS_ROUTING_CACHE_SECONDS
            ):
                table = _table = _load()
    return table


def municipality_for_host(host: str) -> Municipality | None:
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
