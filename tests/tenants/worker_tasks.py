"""Tasks that only the worker tests queue. They talk to the test through files in a folder it
gives them: a real worker process runs them, and may be killed in the middle."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from django_tasks import task


@task()
def wait_for_release(folder: str) -> str:
    """Say it started (`started-<pid>`), wait until the test writes `release`, then count one
    completion (a line in `completions`). A task whose side effect shows how often it ran."""
    here = Path(folder)
    (here / f"started-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not (here / "release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the task")
        time.sleep(0.02)
    with (here / "completions").open("a") as completions:
        completions.write(f"{os.getpid()}\n")
    return "done"


@task()
def kill_own_worker(folder: str) -> None:
    """Count one attempt (a line in `attempts`), then kill the worker running it: a task that
    can never finish."""
    with (Path(folder) / "attempts").open("a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)


@task()
def log_a_line(word: str) -> str:
    """Write one log line: the worker's log lines of a task carry its ids."""
    import logging

    logging.getLogger("tests.worker_tasks").warning("la tâche dit %s", word)
    return word


@task()
def fail_with_personal_data(schema_name: str, email: str, phone: str) -> None:
    """Fail with a message that names a person, as a careless exception could."""
    raise ValueError(f"envoi impossible à {email}, {phone}")
