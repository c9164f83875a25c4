"""Browser tests: Playwright driving the system Chromium against a real HTTP server.

The server runs in a thread of the test process, on the test database, and sees what the
session fixtures committed (Laval and Lévis). Chromium resolves *.localhost to loopback, so
each town is reached by its own host name.

Every page a test opens is watched for Content-Security-Policy violations (`page` below): a
test that leaves one behind fails at teardown, whatever it checked itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.db import connections

# The portal's shared fixtures (`portal_town`, `citizen_account`).
from tests.e2e.portal import citizen_account, portal_town  # noqa: F401

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Playwright's sync API runs an event loop in this thread; the Django code it shares the thread
# with is synchronous test set-up, not request handling.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _ServerThread(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.ready = threading.Event()
        self.port = 0

    def run(self) -> None:
        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=True)
        self.httpd.daemon_threads = True
        self.httpd.set_app(StaticFilesHandler(get_wsgi_application()))
        self.port = self.httpd.server_address[1]
        self.ready.set()
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        connections.close_all()


@pytest.fixture(scope="session")
def live_port(django_db_setup: None, django_db_blocker: object) -> Iterator[int]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        thread = _ServerThread()
        thread.start()
        thread.ready.wait(10)
        yield thread.port
        thread.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: apt-get install chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


# Installed in every document before its own scripts (through the DevTools protocol, which the
# page's policy does not govern): each violation is handed to Python with what was refused.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__relaisCspViolation(
    `${event.disposition} ${event.effectiveDirective}: ${event.blockedURI || "?"} `
    + `at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
    + (event.sample ? ` (${event.sample})` : "")
  );
});
"""


def watch_csp_violations(context: Any) -> list[str]:
    """The Content-Security-Policy violations of every page of a browser `context`, in a list
    that fills as they happen: the `securitypolicyviolation` events of each document, and the
    console's reports, which also cover what no document listener sees (a worker's)."""
    violations: list[str] = []

    def on_event(report: str) -> None:
        violations.append(report)

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.expose_function("__relaisCspViolation", on_event)
    context.add_init_script(_CSP_LISTENER)
    context.on("console", on_console)
    return violations


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    violations = watch_csp_violations(context)
    page = context.new_page()
    yield page
    from playwright.sync_api import Error as PlaywrightError

    # A round trip, so that the reports the page has already sent are received (unless the
    # page was left navigating or crashed by a test that failed anyway).
    with contextlib.suppress(PlaywrightError):
        page.evaluate("0")
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))
