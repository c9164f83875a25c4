"""Prometheus metrics at `/metrics`, for the addresses of RELAIS_METRICS_ALLOWED only, asked
directly (never through a proxy).

- Requests, counted and timed by each serving process (`RequestLogMiddleware` calls
  `request_observe`), per town (its schema; `public` for the base domain, `-` for what is
  answered before routing: probes, unknown hosts, suspended towns), method and status.
  Under gunicorn, every worker writes its figures to files in PROMETHEUS_MULTIPROC_DIR
  (deploy/gunicorn.conf.py sets it) and a scrape of any worker adds them all up: a scrape
  answered by one worker still counts every worker's requests.
- The task queue and each town's outbox, read from the database at each scrape (a few
  queries, whichever worker answers): tasks waiting, running and failed per queue, the age of
  the oldest task waiting, and each town's messages waiting to be sent with the age of the
  oldest.

A label never comes from what a client sends: the town is a schema of the routing table, the
method one of the HTTP methods Relais serves (else `other`), the status one Relais answered.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg import sql

logger = logging.getLogger(__name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "relais_http_requests",
    "Requêtes HTTP répondues, par ville, méthode et statut",
    ["town", "method", "status"],
)
LATENCY = Histogram(
    "relais_http_request_duration_seconds",
    "Durée des requêtes HTTP (réponse prête), par ville",
    ["town"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


_failed_once = False


def request_observe(request: HttpRequest, status: int, seconds: float) -> None:
    """Count and time one answered request. Metrics never fail a request: a folder of
    PROMETHEUS_MULTIPROC_DIR gone or full is logged once, and the request is answered."""
    global _failed_once
    tenant = getattr(request, "tenant", None)
    town = getattr(tenant, "schema_name", None) or "-"
    method = request.method if request.method in _METHODS else "other"
    try:
        REQUESTS.labels(town=town, method=method, status=str(status)).inc()
        LATENCY.labels(town=town).observe(seconds)
    except (OSError, ValueError) as error:
        if not _failed_once:
            _failed_once = True
            logger.warning("request metrics not recorded: %s", error)


class DatabaseCollector(Collector):
    """The task queue and the towns' outboxes, as the database has them now."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "relais_database_up", "La base de données a répondu aux requêtes des métriques"
        )
        try:
            families = list(self._families())
        except DatabaseError as error:
            # The request counts are still served: they matter most when the database fails.
            logger.warning("metrics: database unavailable: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[GaugeMetricFamily]:
        queued = GaugeMetricFamily(
            "relais_tasks_queued", "Tâches en attente d'un travailleur", labels=["queue"]
        )
        running = GaugeMetricFamily("relais_tasks_running", "Tâches en cours", labels=["queue"])
        failed = GaugeMetricFamily(
            "relais_tasks_failed", "Tâches en échec (à relancer à la main)", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "relais_tasks_oldest_queued_age_seconds",
            "Âge de la plus ancienne tâche prête et en attente",
            labels=["queue"],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT queue_name,
                       count(*) FILTER (WHERE status = 'READY'),
                       count(*) FILTER (WHERE status = 'RUNNING'),
                       count(*) FILTER (WHERE status = 'FAILED'),
                       coalesce(extract(epoch FROM now() - min(greatest(enqueued_at, run_after))
                           FILTER (WHERE status = 'READY' AND run_after <= now())), 0)
                FROM public.django_tasks_database_dbtaskresult
                GROUP BY queue_name
                """
            )
            for queue, ready, run, fail, age in cursor.fetchall():
                queued.add_metric([queue], ready)
                running.add_metric([queue], run)
                failed.add_metric([queue], fail)
                oldest.add_metric([queue], float(age))
        yield from (queued, running, failed, oldest)

        pending = GaugeMetricFamily(
            "relais_outbox_pending",
            "Avis aux citoyens à envoyer (outbox), par ville",
            labels=["town"],
        )
        pending_age = GaugeMetricFamily(
            "relais_outbox_oldest_pending_age_seconds",
            "Âge du plus ancien avis à envoyer, par ville",
            labels=["town"],
        )
        for town, count, age in _outbox_backlog():
            pending.add_metric([town], count)
            pending_age.add_metric([town], float(age))
        yield from (pending, pending_age)


def _outbox_backlog() -> list[tuple[str, int, float]]:
    """Each serving town's messages waiting to be sent: one query over every schema (the
    outbox's partial index on waiting messages answers each part)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name FROM public.tenants_municipality "
            "WHERE status IN ('onboarding', 'live', 'suspended') ORDER BY schema_name"
        )
        schemas = [name for (name,) in cursor.fetchall()]
        if not schemas:
            return []
        part = sql.SQL(
            "SELECT {name}, count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
            "FROM {table} WHERE status IN ('pending', 'sending')"
        )
        query = sql.SQL(" UNION ALL ").join(
            part.format(name=sql.Literal(schema), table=sql.Identifier(schema, "crm_notification"))
            for schema in schemas
        )
        cursor.execute(query.as_string(cursor.connection))
        return [(town, count, age) for town, count, age in cursor.fetchall()]


def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in settings.RELAIS_METRICS_ALLOWED
        if entry.strip()
    )


# Headers a proxy adds: a scrape through nginx or an ingress carries one of them.
_PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")


def _allowed(request: HttpRequest) -> bool:
    """A scraper calls the web process itself, from an allowed address. A request that went
    through a proxy is refused whatever its address: behind an ingress or a load balancer, the
    connection's address is the proxy's (inside the network), and the address it reports for
    the client may be one of the network's too."""
    if any(request.headers.get(name) for name in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "Adresse non autorisée (RELAIS_METRICS_ALLOWED).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
