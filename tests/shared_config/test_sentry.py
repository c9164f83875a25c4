"""Sentry events reach a real ingest endpoint on loopback, tagged and without personal data."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from shared_config import observability
from shared_config.logging import SchemaNameFilter
from shared_config.sentry import init_sentry, scrub_text
from tests.processes import child_env, running, wait_for, worker_command
from tests.tenants.worker_tasks import fail_with_personal_data

pytestmark = pytest.mark.django_db


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sentry_ingest() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _events(server: ThreadingHTTPServer) -> list[dict]:
    events = []
    for envelope in server.received:  # type: ignore[attr-defined]
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


@override_settings(ROOT_URLCONF="tests.shared_config.urls_failing")
def test_an_error_reaches_sentry_tagged_with_the_schema_and_without_personal_data(
    sentry_ingest, laval
):
    port = sentry_ingest.server_address[1]
    init_sentry(dsn=f"http://cle@127.0.0.1:{port}/42", environment="test")
    try:
        client = Client(HTTP_HOST="laval.localhost", raise_request_exception=False)
        client.cookies["sessionid"] = "secret-session"
        response = client.get(
            "/panne?courriel=camille@exemple.qc.ca",
            HTTP_AUTHORIZATION="Token secret-token",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            HTTP_REFERER="https://laval.localhost/suivi?courriel=camille@exemple.qc.ca",
        )
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: Sentry off again for the other tests

    assert response.status_code == 500
    events = _events(sentry_ingest)
    assert len(events) == 1
    event = events[0]
    assert event["tags"]["schema_name"] == "laval"
    assert event["exception"]["values"][0]["value"] == "panne simulée"
    raw = json.dumps(event)
    for secret in ("camille@exemple.qc.ca", "secret-session", "secret-token", "203.0.113.9"):
        assert secret not in raw
    assert "cookies" not in event["request"]
    assert "query_string" not in event["request"]


@override_settings(ROOT_URLCONF="tests.shared_config.urls_failing")
def test_an_error_in_a_levis_request_arrives_tagged_with_levis_its_role_and_release_and_scrubbed(
    sentry_ingest, levis, monkeypatch
):
    port = sentry_ingest.server_address[1]
    monkeypatch.delenv("SENTRY_RELEASE", raising=False)
    monkeypatch.setenv("RELAIS_RELEASE", "essai-42")  # the image's build argument
    monkeypatch.setattr(observability, "_role", "web")
    init_sentry(dsn=f"http://cle@127.0.0.1:{port}/42", environment="test")
    try:
        response = Client(HTTP_HOST="levis.localhost", raise_request_exception=False).post(
            "/panne-bavarde",
            {
                "email": "camille@exemple.qc.ca",
                "phone": "418-555-0123",
                "address": "12 rue Principale",
                "description": "Le chien de mon voisin Gaston aboie toute la nuit",
            },
        )
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()

    assert response.status_code == 500
    [event] = _events(sentry_ingest)
    assert event["tags"]["schema_name"] == "levis"
    assert event["tags"]["role"] == "web"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert event["release"] == "relais@essai-42"
    assert event["exception"]["values"][0]["value"] == "panne pour [Filtré], [Filtré]"
    messages = [crumb.get("message") for crumb in event["breadcrumbs"]["values"]]
    assert "signalement de [Filtré] au [Filtré]" in messages
    raw = json.dumps(event, ensure_ascii=False)
    for personal in (
        "camille@exemple.qc.ca",
        "418-555-0123",
        "514-555-0199",
        "Gaston",
        "Principale",
    ):
        assert personal not in raw


def test_the_scrubber_cuts_emails_phones_civic_addresses_and_tokens():
    text = (
        "Courriel Jean.Tremblay+311@exemple.qc.ca, tél. (514) 555-0199 ou +1 450.555.0100, "
        "au 1234 boulevard des Laurentides app. 3; clé rls_AbC123dEf456; jeton "
        "Zx81kQp0vT2mNcLs9RbYa7 ; demande 2026-000123 du 2026-12-06 à 14 h 05."
    )

    assert scrub_text(text) == (
        "Courriel [Filtré], tél. [Filtré] ou [Filtré], au [Filtré]; clé [Filtré]; jeton "
        "[Filtré] ; demande 2026-000123 du 2026-12-06 à 14 h 05."
    )


@pytest.mark.django_db(transaction=False)
def test_a_task_failing_in_the_db_worker_arrives_tagged_worker_and_scrubbed(
    sentry_ingest, queued_task, tmp_path
):
    port = sentry_ingest.server_address[1]
    task_id = queued_task(fail_with_personal_data, "levis", "camille@exemple.qc.ca", "450-555-0199")
    env = child_env(RELAIS_TEST_SENTRY_DSN=f"http://cle@127.0.0.1:{port}/42")

    with running(worker_command(), env=env, log=tmp_path / "worker.log"):
        wait_for(lambda: _events(sentry_ingest), timeout=60, what="the worker's event")

    [event] = _events(sentry_ingest)
    assert event["tags"]["role"] == "worker"
    assert event["tags"]["schema_name"] == "levis"  # the town the task worked on
    assert event["tags"]["task_id"] == task_id
    assert event["tags"]["task"] == "tests.tenants.worker_tasks.fail_with_personal_data"
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert event["exception"]["values"][0]["value"] == "envoi impossible à [Filtré], [Filtré]"
    assert "camille@exemple.qc.ca" not in json.dumps(event)
    assert "450-555-0199" not in json.dumps(event)


def test_log_records_carry_the_schema_name(laval):
    record = logging.LogRecord("relais", logging.INFO, __file__, 1, "bonjour", None, None)

    with schema_context(laval.schema_name):
        SchemaNameFilter().filter(record)
    assert record.schema_name == "laval"  # type: ignore[attr-defined]

    SchemaNameFilter().filter(record)
    assert record.schema_name == "public"  # type: ignore[attr-defined]


def test_an_events_url_loses_the_secret_of_a_reset_link_and_its_query_string():
    from shared_config.sentry import scrub_event

    event = {
        "request": {
            "url": "https://laval.localhost/comptes/reset/Mg/cbv1kz-a8f0c4e5d6b7/?courriel=x@y.ca",
            "query_string": "courriel=x@y.ca",
        }
    }

    scrubbed = scrub_event(event, {})

    assert scrubbed["request"]["url"] == "https://laval.localhost/comptes/reset/***/***/"
    assert "query_string" not in scrubbed["request"]
