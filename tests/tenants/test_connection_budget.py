"""A gunicorn worker's database connection is replaced once it has served more towns than
RELAIS_CONNECTION_MAX_SCHEMAS, so that one backend's memory stays bounded; a connection that
serves the same towns again is kept."""

from __future__ import annotations

from http.client import HTTPConnection

import pytest
from django.db import connection

from tests.processes import free_port, gunicorn, running, wait_for

pytestmark = pytest.mark.django_db

APPLICATION = "relais-budget-test"


def _backends() -> list[int]:
    with connection.cursor() as cursor:
        # The statistics views keep one snapshot per transaction, and a test is one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s ORDER BY pid",
            [APPLICATION],
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_a_worker_gets_a_new_connection_after_its_budget_of_towns(laval, levis, tmp_path):
    port = free_port()
    command, env = gunicorn(port, application=APPLICATION, RELAIS_CONNECTION_MAX_SCHEMAS="1")

    def get(host: str) -> int:
        client = HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            client.request("GET", "/", headers={"Host": host})
            return client.getresponse().status
        finally:
            client.close()

    def up() -> bool:
        try:
            return get("laval.localhost") == 200
        except OSError:
            return False

    with running(command, env=env, log=tmp_path / "gunicorn.log"):
        wait_for(up, timeout=60, what="gunicorn answers")
        first = wait_for(_backends, timeout=10, what="the worker's connection")
        assert get("laval.localhost") == 200
        assert _backends() == first  # the same town again: the same connection

        assert get("levis.localhost") == 200  # a second town: past the budget of one
        wait_for(lambda: _backends() != first, timeout=10, what="the connection closed")
        assert get("levis.localhost") == 200
        second = wait_for(_backends, timeout=10, what="a new connection")
        assert second != first
