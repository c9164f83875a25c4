"""`/metrics`: per-town request counts and latencies, the task queue and the towns' outboxes,
for the configured addresses only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from crm.models import Notification
from tests.tenants.worker_tasks import log_a_line

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "tenants.tasks_backend.DatabaseBackend"}}


def _scrape(client: Client | None = None, **headers: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = (client or Client(HTTP_HOST="10.0.0.7:8000")).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_and_timed_per_town_and_status(client_for, laval, levis):
    before = _scrape()

    for _ in range(3):
        assert client_for(levis).get("/").status_code == 200
    assert client_for(laval).get("/page-qui-n-existe-pas/").status_code == 404
    assert client_for("inconnue.localhost").get("/").status_code == 404
    after = _scrape()

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    levis_ok = {"town": "levis", "method": "GET", "status": "200"}
    assert delta("relais_http_requests_total", **levis_ok) == 3
    assert delta("relais_http_requests_total", town="laval", method="GET", status="404") == 1
    # An unknown host makes no label of its own: it is counted under "-".
    assert delta("relais_http_requests_total", town="-", method="GET", status="404") >= 1
    assert not any("inconnue" in str(labels) for _name, labels in after)
    assert delta("relais_http_request_duration_seconds_count", town="levis") == 3
    assert delta("relais_http_request_duration_seconds_sum", town="levis") > 0
    assert delta("relais_http_request_duration_seconds_bucket", town="levis", le="+Inf") == 3


def test_a_method_a_client_makes_up_is_not_a_label(client_for, levis):
    client_for(levis).generic("BREW", "/")
    samples = _scrape()
    assert not any("BREW" in str(labels) for _name, labels in samples)
    assert _value(samples, "relais_http_requests_total", town="levis", method="other", status="405")


def test_the_task_queue_depth_and_age(laval):
    with override_settings(TASKS=DATABASE_QUEUE):
        first = log_a_line.enqueue("un")
        log_a_line.enqueue("deux")
    DBTaskResult.objects.filter(id=first.id).update(
        enqueued_at=timezone.now() - timedelta(minutes=5),
        run_after=timezone.now() - timedelta(minutes=5),
    )
    later = timezone.now() + timedelta(hours=1)
    with override_settings(TASKS=DATABASE_QUEUE):
        deferred = log_a_line.using(run_after=later).enqueue("plus tard")
    DBTaskResult.objects.filter(id=deferred.id).update(status="READY")

    samples = _scrape()

    assert _value(samples, "relais_database_up") == 1
    assert _value(samples, "relais_tasks_queued", queue="default") == 3
    assert _value(samples, "relais_tasks_running", queue="default") == 0
    # The oldest task that is due, not the one deferred to later.
    assert 290 <= _value(samples, "relais_tasks_oldest_queued_age_seconds", queue="default") < 400


def test_each_towns_outbox_backlog(laval, levis):
    with schema_context(levis.schema_name):
        waiting = Notification.objects.create(
            kind="received",
            channel="email",
            recipient="lea@exemple.qc.ca",
            subject="Votre demande n° 2026-000001 est reçue",
            body_text="Bonjour,\n",
        )
        Notification.objects.filter(pk=waiting.pk).update(
            created_at=timezone.now() - timedelta(minutes=2)
        )
        Notification.objects.create(
            kind="received",
            channel="email",
            recipient="lea@exemple.qc.ca",
            subject="Déjà envoyé",
            body_text="Bonjour,\n",
            status="sent",
        )

    samples = _scrape()

    assert _value(samples, "relais_outbox_pending", town="levis") == 1
    assert _value(samples, "relais_outbox_pending", town="laval") == 0
    assert 110 <= _value(samples, "relais_outbox_oldest_pending_age_seconds", town="levis") < 200
    assert "lea@exemple.qc.ca" not in str(samples)


def test_only_the_configured_addresses_may_read_the_metrics():
    outsider = Client(HTTP_HOST="levis.localhost", REMOTE_ADDR="203.0.113.9")
    assert outsider.get("/metrics").status_code == 403
    # What a client writes in X-Forwarded-For is not trusted without a proxy in front.
    assert outsider.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 403

    with override_settings(RELAIS_METRICS_ALLOWED=["10.0.0.0/8"]):
        scraper = Client(HTTP_HOST="10.0.0.7:8000", REMOTE_ADDR="10.42.0.5")
        assert scraper.get("/metrics").status_code == 200
        assert Client(HTTP_HOST="localhost").get("/metrics").status_code == 403


def test_a_scrape_through_a_proxy_is_refused_whatever_the_addresses():
    """Behind an ingress the connection comes from inside the network: the proxy's headers
    give it away, and the address it reports for the client is not trusted either."""
    with override_settings(
        REST_FRAMEWORK={"NUM_PROXIES": 1}, RELAIS_METRICS_ALLOWED=["10.0.0.0/8"]
    ):
        ingress = Client(HTTP_HOST="relais.exemple.qc.ca", REMOTE_ADDR="10.42.0.9")
        assert ingress.get("/metrics", HTTP_X_FORWARDED_FOR="10.42.0.5").status_code == 403
        assert ingress.get("/metrics", HTTP_X_REAL_IP="10.42.0.5").status_code == 403
        assert ingress.get("/metrics", HTTP_FORWARDED="for=10.42.0.5").status_code == 403
        assert ingress.get("/metrics").status_code == 200


def test_without_the_database_the_request_counts_are_still_served(monkeypatch):
    from django.db import OperationalError

    from shared_config import metrics

    def unavailable(self):
        raise OperationalError("the database system is shutting down")
        yield  # a generator, as the real one

    monkeypatch.setattr(metrics.DatabaseCollector, "_families", unavailable)
    samples = _scrape()

    assert _value(samples, "relais_database_up") == 0
    assert ("relais_http_requests_total", ()) not in samples  # no label-less sample
    assert any(name == "relais_http_requests_total" for name, _labels in samples)
    assert not any(name == "relais_tasks_queued" for name, _labels in samples)
