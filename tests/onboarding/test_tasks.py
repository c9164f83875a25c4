"""Background work goes through Django's tasks API: queued in PostgreSQL (public schema) and run
by a real `db_worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from onboarding.models import TownRollup
from onboarding.tasks import refresh_console_rollup
from tests.conftest import test_database_url
from tests.e2e.test_accessibility import committed

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_rollup_task_is_queued_in_postgresql_and_run_by_the_worker(laval, levis):
    holder: dict[str, str] = {}

    def enqueue() -> None:
        with override_settings(TASKS=DATABASE_QUEUE):
            holder["id"] = str(refresh_console_rollup.enqueue().id)

    def clean() -> None:
        DBTaskResult.objects.filter(id=holder.get("id")).delete()
        TownRollup.objects.all().delete()

    committed(enqueue)
    try:
        with override_settings(TASKS=DATABASE_QUEUE):
            assert refresh_console_rollup.get_result(holder["id"]).status == "READY"
        worker = subprocess.run(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
            cwd=Path(settings.BASE_DIR),
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "shared_config.settings_test",
                "DATABASE_URL": test_database_url(),
                "RELAIS_TASKS_BACKEND": "database",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert worker.returncode == 0, worker.stderr
        with override_settings(TASKS=DATABASE_QUEUE):
            result = refresh_console_rollup.get_result(holder["id"])
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value >= 2
        assert {"laval", "levis"} <= set(
            TownRollup.objects.values_list("municipality__slug", flat=True)
        )
    finally:
        committed(clean)
