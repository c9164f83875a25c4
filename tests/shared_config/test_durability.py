"""PostgreSQL restarts under load: gunicorn takes concurrent API intake and a task worker runs,
the database goes away in the middle (the embedded server is really restarted, as after a
crash; on a server given by DATABASE_URL the application's sessions are terminated).

Every request acknowledged (201) exists afterwards, whole and as sent; every other one got a
clear error (a JSON 503 in the API's shape, or a dropped connection) and left nothing half
written; the service and the worker recover by themselves."""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from crm.models import EventKind, RequestEvent, ServiceRequest
from onboarding.models import TownRollup
from onboarding.tasks import refresh_console_rollup
from shared_config.embedded_db import restart_embedded_database
from tenants.models import Domain, Municipality, Region
from tenants.services import municipality_create
from tests.crm.api_catalog import api_catalog
from tests.e2e.test_accessibility import committed
from tests.factories import ApiKeyFactory
from tests.processes import (
    child_database_url,
    child_env,
    free_port,
    running,
    wait_for,
    worker_command,
)
from tests.tenants.worker_tasks import wait_for_release

SLUG = "durabilite"
HOST = f"{SLUG}.localhost"
CLIENTS = 4
BEFORE, AFTER = 25, 25  # acknowledged requests wanted before the restart, and after it
pytestmark = pytest.mark.django_db


@dataclass
class Outcome:
    token: str
    started: float
    ended: float
    status: int | None = None  # None: no HTTP answer (connection refused, reset, timed out)
    content_type: str = ""
    retry_after: str = ""
    body: Any = None
    error: str = ""


def _drop_town() -> None:
    """The town, and the console figures the rollup task computed for every town."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
    Domain.objects.filter(tenant__slug=SLUG).delete()
    Municipality.objects.filter(slug=SLUG).delete()
    TownRollup.objects.all().delete()


@pytest.fixture
def town() -> Iterator[str]:
    """A town of its own, committed (gunicorn and the worker are other processes), with the
    API tests' catalog; yields a write API key. Dropped whole afterwards."""
    key: dict[str, str] = {}

    def create() -> None:
        municipality_create(
            name="Ville de Durabilité",
            slug=SLUG,
            domain=HOST,
            kind=Municipality.Kind.HOST,
            region=Region.LAVAL,
            privacy_officer_name="Greffe",
            privacy_officer_email="greffe@durabilite.localhost",
        )
        with schema_context(SLUG):
            api_catalog()
            key["write"] = ApiKeyFactory(name="Essai de durabilité", scope="write").secret

    committed(_drop_town)  # what an interrupted run left
    committed(create)
    try:
        yield key["write"]
    finally:
        connections.close_all()  # the restart broke this process's connections
        committed(_drop_town)


def _post(port: int, key: str, token: str) -> Outcome:
    outcome = Outcome(token=token, started=time.monotonic(), ended=0.0)
    body = json.dumps(
        {
            "service_code": "nid-de-poule",
            "description": f"Trou profond {token}",
            "latitude": "45.570000",
            "longitude": "-73.690000",
            "attributes": {"taille": "grand"},
        }
    )
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        client.request(
            "POST",
            "/api/v1/requests/",
            body=body.encode(),
            headers={
                "Host": HOST,
                "Authorization": f"Api-Key {key}",
                "Content-Type": "application/json",
            },
        )
        response = client.getresponse()
        raw = response.read()
        outcome.status = response.status
        outcome.content_type = response.getheader("Content-Type", "")
        outcome.retry_after = response.getheader("Retry-After", "")
        try:
            outcome.body = json.loads(raw)
        except ValueError:
            outcome.body = raw.decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        outcome.error = f"{type(error).__name__}: {error}"
    finally:
        client.close()
        outcome.ended = time.monotonic()
    return outcome


def _healthy(port: int) -> bool:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        client.request("GET", "/healthz", headers={"Host": HOST})
        return client.getresponse().status == 200
    except OSError:
        return False
    finally:
        client.close()


def _restart_database(application: str) -> dict[str, int]:
    """Restart the embedded server for real (as after a crash: the write-ahead log is replayed);
    on a server at DATABASE_URL, end every session of the application under test instead.
    Returns the sessions ended per application name (or the postmaster's pid before and after)."""
    if not os.environ.get("DATABASE_URL"):
        data = Path(settings.BASE_DIR) / ".data"
        before = _postmaster_pid(data)
        restart_embedded_database(data, mode="immediate")
        return {"postmaster before": before, "postmaster after": _postmaster_pid(data)}

    ended: dict[str, int] = {}

    def terminate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT application_name, count(pg_terminate_backend(pid)) "
                "FROM pg_stat_activity WHERE application_name LIKE %s GROUP BY 1",
                [f"{application}-%"],
            )
            ended.update(cursor.fetchall())

    committed(terminate)
    return ended


def _postmaster_pid(data: Path) -> int:
    return int((data / "postgres" / "postmaster.pid").read_text().split()[0])


@pytest.mark.server_restart
def test_acknowledged_requests_survive_a_database_restart_and_the_service_recovers(
    town, tmp_path, queued_task
):
    key = town
    port = free_port()
    application = f"relais-durability-{uuid.uuid4().hex[:8]}"
    rates = {"RELAIS_API_KEY_RATE": "1000000/min", "RELAIS_API_CLIENT_RATE": "1000000/min"}
    web_env = child_env(
        DATABASE_URL=child_database_url(application_name=f"{application}-web"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        **rates,
    )
    worker_env = child_env(
        DATABASE_URL=child_database_url(application_name=f"{application}-worker")
    )
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "--no-control-socket",  # gunicorn's default one is per user: tests may run side by side
        "shared_config.wsgi:application",
    ]
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            outcome = _post(port, key, uuid.uuid4().hex)
            with lock:
                outcomes.append(outcome)
            if outcome.status != 201:
                stop.wait(0.05)  # a client tries again soon, not in a tight loop

    def acknowledged_since(moment: float) -> int:
        with lock:
            return sum(1 for o in outcomes if o.status == 201 and o.started >= moment)

    with (
        running(gunicorn, env=web_env, log=tmp_path / "gunicorn.log"),
        running(worker_command(), env=worker_env, log=tmp_path / "worker.log") as worker,
    ):
        # A task that runs across the restart: it finishes after it, once.
        spanning = queued_task(wait_for_release, str(tmp_path))
        wait_for(lambda: list(tmp_path.glob("started-*")), timeout=60, what="the task starts")
        wait_for(lambda: _healthy(port), timeout=60, what="gunicorn answers")
        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        try:
            wait_for(lambda: acknowledged_since(0) >= BEFORE, timeout=60, what="the load")
            restart_at = time.monotonic()
            restart = _restart_database(application)
            restarted_at = time.monotonic()
            wait_for(
                lambda: acknowledged_since(restarted_at) >= AFTER,
                timeout=60,
                what="acknowledged requests after the restart",
            )
        finally:
            stop.set()
            for thread in clients:
                thread.join(30)
        (tmp_path / "release").touch()
        after = queued_task(refresh_console_rollup)
        wait_for(
            lambda: _statuses([spanning, after]) == {TaskResultStatus.SUCCESSFUL},
            timeout=60,
            what="the worker finishes the task begun before the restart and one queued after",
        )
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
    assert len((tmp_path / "completions").read_text().split()) == 1

    if "postmaster after" in restart:
        assert restart["postmaster after"] != restart["postmaster before"]
    else:  # gunicorn's workers (one session each once they served), the worker's two
        assert restart[f"{application}-web"] >= 1
        assert restart[f"{application}-worker"] == 2  # its tasks' session and its lease
    acknowledged = [o for o in outcomes if o.status == 201]
    failed = [o for o in outcomes if o.status != 201]
    stored = _stored({o.token for o in outcomes})
    first_after = min(o.ended for o in acknowledged if o.started >= restart_at)
    print(  # noqa: T201  (the run's figures, shown with -s)
        f"\n{len(outcomes)} requests: {len(acknowledged)} acknowledged, {len(failed)} failed "
        f"({_kinds(failed)}), of which {sum(o.token in stored for o in failed)} stored whole; "
        f"restart {restarted_at - restart_at:.2f} s ({restart}); first acknowledged request "
        f"{first_after - restart_at:.2f} s after the restart began"
    )

    assert first_after - restarted_at < 10  # the service came back by itself, at once
    for outcome in acknowledged:
        number = outcome.body["number"]
        assert stored.get(outcome.token) == (number, "nid-de-poule", {"taille": "grand"}, 1), (
            outcome
        )
    for outcome in failed:
        if outcome.status is not None:
            assert outcome.status == 503, outcome
            assert outcome.content_type.startswith("application/json"), outcome
            assert outcome.body["error"]["code"] == "service_unavailable", outcome
            assert outcome.retry_after == "5", outcome
        # Not acknowledged: either never written, or written whole (the commit happened just
        # before the connection died), never half.
        if outcome.token in stored:
            assert stored[outcome.token][1:] == ("nid-de-poule", {"taille": "grand"}, 1)
    numbers = [row[0] for row in stored.values()]
    assert len(numbers) == len(set(numbers))


def _statuses(task_ids: list[str]) -> set[str]:
    found: set[str] = set()

    def read() -> None:
        found.update(DBTaskResult.objects.filter(id__in=task_ids).values_list("status", flat=True))

    committed(read)
    return found


def _stored(tokens: set[str]) -> dict[str, tuple[str, str, dict, int]]:
    """Per token: the request's number, service code, answers and number of 'created' events."""
    rows: dict[str, tuple[str, str, dict, int]] = {}

    def read() -> None:
        with schema_context(SLUG):
            for request in ServiceRequest.objects.select_related("service_type"):
                token = request.description.rsplit(" ", 1)[-1]
                if token in tokens:
                    events = RequestEvent.objects.filter(request=request)
                    created = events.filter(kind=EventKind.CREATED).count()
                    rows[token] = (
                        request.number,
                        request.service_type.code,
                        request.attributes,
                        created,
                    )

    committed(read)
    return rows


def _kinds(failed: list[Outcome]) -> str:
    kinds: dict[str, int] = {}
    for outcome in failed:
        kind = str(outcome.status) if outcome.status is not None else outcome.error.split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items())) or "none"


# --- The answer while the database is away, on each API ---------------------------------------

UNAVAILABLE = "Service momentanément indisponible. Réessayez dans quelques secondes."


def _unreachable(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection failed: FATAL:  the database system is starting up")


def test_the_rest_api_answers_a_json_503_while_the_database_is_unreachable(
    laval, client_for, monkeypatch
):
    monkeypatch.setattr("crm.selectors.service_types_offered", _unreachable)

    response = client_for(laval).get("/api/v1/services/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"error": {"code": "service_unavailable", "message": UNAVAILABLE}}


def test_open311_answers_a_503_in_its_own_format_while_the_database_is_unreachable(
    laval, client_for, monkeypatch
):
    monkeypatch.setattr("crm.selectors.service_type_directory", _unreachable)

    as_json = client_for(laval).get("/open311/v2/services.json")
    as_xml = client_for(laval).get("/open311/v2/services.xml")

    assert as_json.status_code == as_xml.status_code == 503
    assert as_json["Retry-After"] == "5"
    assert as_json.json() == [{"code": 503, "description": UNAVAILABLE}]
    assert f"<code>503</code><description>{UNAVAILABLE}</description>" in as_xml.content.decode()
