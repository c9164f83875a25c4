"""Real processes on the test database (task workers, gunicorn): how they reach it, how a test
waits for them, and their end, also when the test fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection

T = TypeVar("T")


def child_database_url(**options: str) -> str:
    """A DATABASE_URL for the test database (the embedded server's socket directory included),
    with extra connection options (e.g. application_name)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    host = db["HOST"] or ""
    query = dict(options)
    if host.startswith("/"):  # a socket directory (the embedded server)
        query = {"host": host, **({"port": db["PORT"]} if db["PORT"] else {}), **query}
        address = ""
    else:
        address = f"{host}:{db['PORT'] or 5432}"
    tail = "&".join(f"{key}={quote(value)}" for key, value in query.items())
    return f"postgresql://{user}@{address}/{db['NAME']}" + (f"?{tail}" if tail else "")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process on the test database, tasks queued in PostgreSQL."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shared_config.settings_test",
        "DATABASE_URL": child_database_url(),
        "RELAIS_TASKS_BACKEND": "database",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def worker_command(*options: str) -> list[str]:
    return [sys.executable, "manage.py", "db_worker", "--no-startup-delay", *options]


def run_worker(*options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `db_worker` to its end (with --batch: until the queue is empty)."""
    return subprocess.run(  # noqa: S603  (this interpreter, fixed arguments)
        worker_command(*options),
        cwd=Path(settings.BASE_DIR),
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def running(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A process started for the block's duration, its output in `log`; killed (and its own
    children with it, in its process group) when the block ends, however it ends."""
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603  (commands written by the tests)
            command,
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def gunicorn(port: int, *, application: str, **extra: str) -> tuple[list[str], dict[str, str]]:
    """The product's gunicorn (deploy/gunicorn.conf.py, one worker) on loopback `port`, on the
    test database under the connection name `application` (to find its backend): the command
    and environment to give `running`."""
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shared_config.settings_test",
        "DATABASE_URL": child_database_url(application_name=application),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        **extra,
    }
    return [*command, "shared_config.wsgi"], env


def free_port() -> int:
    """A TCP port free on loopback, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], T], *, timeout: float, what: str, every: float = 0.05) -> T:
    """Poll `check` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s: {what}")
        time.sleep(every)
