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

from shared_config.logging import SchemaNameFilter
from shared_config.sentry import init_sentry

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


def test_log_records_carry_the_schema_name(laval):
    record = logging.LogRecord("relais", logging.INFO, __file__, 1, "bonjour", None, None)

    with schema_context(laval.schema_name):
        SchemaNameFilter().filter(record)
    assert record.schema_name == "laval"  # type: ignore[attr-defined]

    SchemaNameFilter().filter(record)
    assert record.schema_name == "public"  # type: ignore[attr-defined]
