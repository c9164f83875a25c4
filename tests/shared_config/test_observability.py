"""Each request has an id, returned in `X-Request-ID`, on its JSON log line and on the tasks it
queues; the worker's log lines of a task carry it again."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from shared_config.logging import JsonFormatter, SchemaNameFilter
from shared_config.observability import request_id_var
from tests.e2e.test_accessibility import committed
from tests.processes import child_env, run_worker
from tests.tenants.worker_tasks import log_a_line

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "tenants.tasks_backend.DatabaseBackend"}}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines of `relais.request`, as production writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SchemaNameFilter())
    handler.setFormatter(JsonFormatter())
    request_logger = logging.getLogger("relais.request")
    request_logger.addHandler(handler)
    previous = request_logger.level
    request_logger.setLevel(logging.DEBUG)
    yield stream
    request_logger.removeHandler(handler)
    request_logger.setLevel(previous)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_answer_has_a_request_id_and_a_well_formed_one_from_the_proxy_is_kept(client_for):
    client = client_for("levis")

    made = client.get("/")
    kept = client.get("/", HTTP_X_REQUEST_ID="a1b2c3d4e5f60718293a4b5c6d7e8f90")
    forged = client.get("/", HTTP_X_REQUEST_ID='x" level=ERROR\n{"forged": 1}')
    unknown_host = client_for("inconnue.localhost").get("/")

    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    assert kept["X-Request-ID"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
    assert unknown_host.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", unknown_host["X-Request-ID"])


def test_a_request_writes_one_json_line_with_its_town_route_status_duration_and_user_id(
    json_log, staff_client, levis
):
    client = staff_client(levis, "agent")
    staff = client.user

    response = client.get("/personnel/?q=camille@exemple.qc.ca")

    assert response.status_code == 200
    [line] = [
        entry for entry in _lines(json_log) if entry["request_id"] == response["X-Request-ID"]
    ]
    assert line["schema"] == "levis"
    assert line["logger"] == "relais.request"
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["route"] == "desk:home"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["user_id"] == staff.pk
    assert "camille" not in json_log.getvalue()
    assert staff.email not in json_log.getvalue()

    anonymous = Client(HTTP_HOST="laval.localhost").get("/")
    assert anonymous.status_code == 200
    [line] = [e for e in _lines(json_log) if e["request_id"] == anonymous["X-Request-ID"]]
    assert line["schema"] == "laval"
    assert "user_id" not in line


@override_settings(TASKS=DATABASE_QUEUE)
def test_the_tasks_a_request_queues_carry_its_id(
    client_for, laval, catalog, api_key, django_capture_on_commit_callbacks
):
    before = set(DBTaskResult.objects.values_list("id", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(laval).post(
            "/open311/v2/requests.json",
            {
                "api_key": api_key,
                "service_code": "nid-de-poule",
                "attribute[taille]": "petit",
                "lat": "45.5701",
                "long": "-73.7012",
                "email": "camille@exemple.qc.ca",
            },
        )

    assert response.status_code == 201, response.content
    queued = DBTaskResult.objects.exclude(id__in=before)
    assert queued.exists()
    assert {task.args_kwargs.get("request_id") for task in queued} == {response["X-Request-ID"]}


def test_a_task_queued_outside_a_request_has_no_request_id():
    with override_settings(TASKS=DATABASE_QUEUE):
        result = log_a_line.enqueue("seul")
    assert "request_id" not in DBTaskResult.objects.get(id=result.id).args_kwargs


def test_the_workers_log_lines_of_a_task_carry_its_id_and_its_requests(tmp_path):
    queued: list[str] = []

    def enqueue() -> None:
        token = request_id_var.set("f00dfeedcafe0123456789abcdef0123")
        try:
            with override_settings(TASKS=DATABASE_QUEUE):
                queued.append(str(log_a_line.enqueue("bonjour").id))
        finally:
            request_id_var.reset(token)

    committed(enqueue)
    try:
        done = run_worker("--batch", env=child_env(LOG_FORMAT="json"))
    finally:
        committed(lambda: DBTaskResult.objects.filter(id__in=queued).delete())

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    said = next(line for line in lines if line["message"] == "la tâche dit bonjour")
    finished = next(line for line in lines if line.get("task") == log_a_line.module_path)
    for line in (said, finished):
        assert line["request_id"] == "f00dfeedcafe0123456789abcdef0123"
        assert line["task_id"] == queued[0]
    assert finished["status"] == "SUCCESSFUL"
    assert isinstance(finished["duration_ms"], float)
