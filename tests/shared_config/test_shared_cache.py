"""Rate limits and sign-in lock-outs hold across processes.

Each limit counts in the cache; a per-process cache let three gunicorn workers give three
allowances. Here separate Python processes (as separate workers are) share one count: Redis
when REDIS_URL is set (CI's second run), the database's cache table otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tests.e2e.test_accessibility import committed
from tests.factories import TEST_PASSWORD, UserFactory
from tests.processes import child_env

pytestmark = pytest.mark.django_db

# A worker's view of one town: a Django test client with the town's Host header.
WORKER = """
import json, sys, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="laval.localhost")
codes = []
for method, path, data in json.loads(sys.argv[1]):
    response = client.post(path, data) if method == "POST" else client.get(path)
    codes.append([response.status_code, "Trop de tentatives" in response.content.decode()])
print(json.dumps(codes))
"""


def _worker(calls: list[tuple[str, str, dict[str, str] | None]], **env: str) -> list[list]:
    done = subprocess.run(  # noqa: S603  (this interpreter, a constant script, test data)
        [sys.executable, "-c", WORKER, json.dumps(calls)],
        cwd=Path(settings.BASE_DIR),
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cache_is_not_per_process():
    backend = settings.CACHES["default"]["BACKEND"]

    assert "locmem" not in backend.lower()
    assert backend.endswith("RedisCache") == bool(os.environ.get("REDIS_URL"))


def test_an_api_limit_holds_across_three_processes(laval):
    calls = [("GET", "/api/v1/services/", None)] * 4
    # The counter counts by windows of the rate's period: an hour here, the three processes
    # started at least a minute before its turn (their clocks are their own).
    left = 3600 - time.time() % 3600
    if left < 60:
        time.sleep(left + 1)

    answers = [
        code
        for _process in range(3)
        for code, _locked in _worker(calls, RELAIS_API_CLIENT_RATE="6/hour")
    ]

    assert answers == [200] * 6 + [429] * 6


def test_a_sign_in_lock_out_holds_across_processes(laval):
    email = "verrou@laval.qc.ca"

    def create() -> None:
        with schema_context(laval.schema_name):
            UserFactory(email=email)

    def remove() -> None:
        with schema_context(laval.schema_name), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM account_emailaddress WHERE email = %s; "
                "DELETE FROM accounts_user WHERE email = %s",
                [email, email],
            )

    committed(create)
    try:
        wrong = ("POST", "/comptes/login/", {"login": email, "password": "mauvais"})
        right = ("POST", "/comptes/login/", {"login": email, "password": TEST_PASSWORD})
        first = _worker([wrong, wrong, wrong])
        second = _worker([wrong, wrong])
        third = _worker([right])
    finally:
        committed(remove)
        cache.clear()

    assert [locked for _code, locked in first + second] == [False] * 5
    assert third == [[200, True]]  # five failures in two processes lock the sixth attempt
    with schema_context(laval.schema_name):
        assert not User.objects.filter(email=email).exists()


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="the database's cache table")
def test_the_database_cache_never_evicts_a_live_entry(laval):
    """Django's DatabaseCache culls a third of its entries, live ones included, past 300 rows:
    a lock-out or a used TOTP code would vanish under a few hundred throttle counters."""
    cache.set("verrou", "actif", 300)
    for n in range(400):
        cache.set(f"compteur-{n}", n, 300)

    assert cache.add("code-utilise", "y", 30) is True
    assert cache.add("code-utilise", "y", 30) is False  # a used code stays used
    assert cache.get("verrou") == "actif"
    assert cache.get("compteur-0") == 0
    cache.set("expire", "x", -1)
    assert cache.add("expire", "neuf", 30) is True  # an expired entry is replaced
    assert cache.touch("verrou", 600) is True
    assert cache.touch("absent", 600) is False


def test_a_lock_out_survives_a_full_cache(laval):
    email = "plein@laval.qc.ca"
    with schema_context(laval.schema_name):
        UserFactory(email=email)
    client = Client(HTTP_HOST="laval.localhost")
    for _attempt in range(5):
        client.post("/comptes/login/", {"login": email, "password": "mauvais"})
    # Another town's traffic fills the cache with throttle counters.
    with schema_context("levis"):
        for n in range(400):
            cache.set(f"throttle:client:{n}", [n], 60)

    right = client.post("/comptes/login/", {"login": email, "password": TEST_PASSWORD})

    assert right.status_code == 200
    assert "Trop de tentatives" in right.content.decode()


def test_each_town_has_its_own_allowance(laval, levis, monkeypatch):
    """The keys carry the schema name: Laval's callers do not use up Lévis's allowance."""
    from crm.api.throttling import ClientAddressThrottle

    monkeypatch.setattr(ClientAddressThrottle, "THROTTLE_RATES", {"client": "3/min"})
    laval_client, levis_client = (
        Client(HTTP_HOST="laval.localhost"),
        Client(HTTP_HOST="levis.localhost"),
    )

    laval_answers = [laval_client.get("/api/v1/services/").status_code for _n in range(4)]
    levis_answer = levis_client.get("/api/v1/services/").status_code

    assert laval_answers == [200, 200, 200, 429]
    assert levis_answer == 200


COUNTER = """
import django, sys
django.setup()
from django.core.cache import cache
from crm.api.throttling import window_count
for _ in range(int(sys.argv[1])):
    window_count(cache, "test:compteur", 60)
"""


def test_a_window_counter_loses_no_request_under_concurrency(laval):
    """Four processes counting at once (as four workers under load): every step is counted,
    in one atomic statement each (DRF's own counter read then wrote the whole history)."""
    processes = [
        subprocess.Popen(  # noqa: S603  (this interpreter, a constant script)
            [sys.executable, "-c", COUNTER, "50"], cwd=Path(settings.BASE_DIR), env=child_env()
        )
        for _ in range(4)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0

    assert cache.get("test:compteur") == 200
    assert cache.incr("test:compteur", 5) == 205
    cache.set("test:autre", 7, 60)
    assert cache.get("test:autre") == 7
    assert cache.incr("test:autre") == 8
    cache.set("test:liste", [1, 2], 60)
    assert cache.get("test:liste") == [1, 2]


def test_an_api_call_counts_both_its_limits_in_one_step(laval, api_key):
    """Per key and per client address: one statement in the database's cache table (Redis
    counts each in its own atomic steps)."""
    from django.test.utils import CaptureQueriesContext

    from crm.api.throttling import windows_count

    client = Client(HTTP_HOST="laval.localhost", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    client.get("/api/v1/services/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/services/").status_code == 200
    cache_statements = [q for q in queries.captured_queries if "relais_cache" in q["sql"]]
    if not os.environ.get("REDIS_URL"):
        assert len(cache_statements) == 1
    assert windows_count(cache, [("test:a", 60), ("test:b", 60)]) == [1, 1]
    assert windows_count(cache, [("test:b", 60), ("test:a", 60)]) == [2, 2]
    assert windows_count(cache, []) == []


def test_a_window_counter_lives_until_its_window_ends(laval):
    """A counter keeps its count for the seconds it is given (in Redis and in the database's
    table alike), then starts again."""
    from crm.api.throttling import window_count

    assert [window_count(cache, "test:fenetre", 3) for _ in range(3)] == [1, 2, 3]
    time.sleep(1.5)
    assert cache.get("test:fenetre") == 3
    assert window_count(cache, "test:fenetre", 3) == 4
    time.sleep(2.5)
    assert window_count(cache, "test:fenetre", 3) == 1
