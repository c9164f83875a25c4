"""No query string (a search for a phone number, an e-mail, a tracking token) in access logs.

[trust] finding 7: `?q=514-555-0199` landed in the logs. The development server's request
lines go through a filter; gunicorn's and nginx's access-log formats in deploy/ leave query
strings and referrers out.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import child_database_url, free_port

pytestmark = pytest.mark.django_db

DEPLOY = Path(settings.BASE_DIR) / "deploy"
SEARCH = "/admin/crm/citizen/?q=514-555-0199&courriel=camille%40exemple.qc.ca"
# Paths that carry a secret: an invitation, allauth's reset key, a tracking token.
SECRET_PATHS = [
    "/comptes/reset/MTI/secret-jeton-invitation/",
    "/en/comptes/password/reset/key/c-secret-cle-reinitialisation/",
    "/open311/v2/tokens/secret-jeton-suivi.json",
    "/suivi/ne-plus-suivre/secret-jeton-abonnement/",
    "/en/track/unfollow/secret-jeton-abonnement/",
]


def test_the_development_server_logs_paths_without_query_strings(caplog):
    with caplog.at_level(logging.INFO, logger="django.server"):
        # What runserver's request handler logs for each request.
        logging.getLogger("django.server").info('"%s" %s %s', f"GET {SEARCH} HTTP/1.1", "302", "0")
        for path in SECRET_PATHS:
            logging.getLogger("django.server").info(
                '"%s" %s %s', f"GET {path} HTTP/1.1", "200", "0"
            )

    assert caplog.messages == [
        '"GET /admin/crm/citizen/ HTTP/1.1" 302 0',
        '"GET /comptes/reset/***/***/ HTTP/1.1" 200 0',
        '"GET /en/comptes/password/reset/key/***/ HTTP/1.1" 200 0',
        '"GET /open311/v2/tokens/***.json HTTP/1.1" 200 0',
        '"GET /suivi/ne-plus-suivre/***/ HTTP/1.1" 200 0',
        '"GET /en/track/unfollow/***/ HTTP/1.1" 200 0',
    ]


def test_a_page_not_found_is_logged_without_the_secret_of_its_path(client_for, laval, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client_for(laval).get("/suivi/ne-plus-suivre/secret-jeton-abonnement/")
        client_for(laval).get("/comptes/reset/MTI/secret-jeton-invitation/?q=x")

    assert all("secret" not in message for message in caplog.messages), caplog.messages
    assert "Not Found: /suivi/ne-plus-suivre/***/" in caplog.messages


def test_nginx_logs_neither_query_strings_nor_referrers():
    conf = (DEPLOY / "nginx.conf").read_text()
    formats = re.findall(r"log_format\s+(\S+)\s+((?:'[^']*'\s*)+);", conf)
    access_logs = re.findall(r"access_log\s+\S+\s+(\S+);", conf)

    assert [name for name, _format in formats] == ["relais_no_query"]
    assert access_logs == ["relais_no_query"]
    format_text = formats[0][1]
    for variable in (
        "$request ",
        '$request"',
        "$request_uri",
        "$args",
        "$query_string",
        "$http_referer",
        "$arg_",
    ):
        assert variable not in format_text, variable
    assert "$relais_log_path" in format_text  # $uri with its secrets masked
    assert "comptes/reset/" in conf
    assert "open311/v2/tokens/" in conf
    assert "suivi/ne-plus-suivre/" in conf


def test_gunicorn_logs_paths_without_query_strings(laval):
    port = free_port()
    server = subprocess.Popen(  # noqa: S603  (this interpreter's gunicorn, constant arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "shared_config.wsgi:application",
        ],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shared_config.settings_test",
            "DATABASE_URL": child_database_url(),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_ACCESS_LOG": "1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/healthz", headers={"Host": "laval.localhost"})
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        connection.request(
            "GET",
            SEARCH,
            headers={"Host": "laval.localhost", "Referer": "http://laval.localhost/?q=secret"},
        )
        assert connection.getresponse().status == 302
        for path in SECRET_PATHS:
            connection.request("GET", path, headers={"Host": "laval.localhost"})
            connection.getresponse().read()
        connection.close()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]

    lines = [line for line in output.splitlines() if '"GET /' in line and "healthz" not in line]
    assert len(lines) == 6, output
    assert '"GET /admin/crm/citizen/ HTTP/1.1" 302' in lines[0]
    assert '"GET /comptes/reset/***/***/ HTTP/1.1"' in lines[1]
    assert '"GET /open311/v2/tokens/***.json HTTP/1.1"' in lines[3]
    assert '"GET /suivi/ne-plus-suivre/***/ HTTP/1.1"' in lines[4]
    assert '"GET /en/track/unfollow/***/ HTTP/1.1"' in lines[5]
    for secret in ("514-555-0199", "camille", "courriel", "secret", "?"):
        assert not any(secret in line for line in lines), lines
