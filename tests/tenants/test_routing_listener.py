"""Routing changes reach every process at once: two serving processes (their periodic reload
set to an hour, so only the notification can explain what they see) follow one host while this
test adds it to a town, suspends the town, then removes the host, each change committed for
real. Each process sees each change within a second; a rolled-back change never reaches them."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction

from tenants.models import Domain, Municipality
from tests.processes import child_env, running, wait_for

HOST = "ecoute-levis.localhost"
WITHIN = 1.0


def _states(log: Path) -> list[tuple[float, str]]:
    """What the process saw, in order: (its monotonic clock, `slug:status` or `-`)."""
    seen = []
    for line in log.read_text().splitlines():
        moment, _, state = line.partition(" ")
        if state:
            seen.append((float(moment), state))
    return seen


def _seen_after(log: Path, state: str, moment: tuple[float, float]) -> float | None:
    """When the process first saw `state` after the change began (None: not yet)."""
    return next((at for at, seen in _states(log) if seen == state and at > moment[0]), None)


def _commit(change: Callable[[], object]) -> tuple[float, float]:
    """When the change began and when its commit returned."""
    began = time.monotonic()
    with transaction.atomic():
        change()
    return began, time.monotonic()


def _set_status(status: str) -> None:
    levis = Municipality.objects.get(slug="levis")
    levis.status = status
    levis.save(update_fields=["status"])


def test_two_processes_see_each_routing_change_within_a_second(
    django_db_setup, django_db_blocker, tmp_path
):
    env = child_env(RELAIS_ROUTING_LISTEN="1", RELAIS_ROUTING_CACHE_SECONDS="3600")
    command = [sys.executable, "-m", "tests.tenants.routing_child", HOST, "90"]
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with django_db_blocker.unblock():
        levis = Municipality.objects.get(slug="levis")
        status = levis.status
        Domain.objects.filter(domain=HOST).delete()
        try:
            with running(command, env=env, log=logs[0]), running(command, env=env, log=logs[1]):
                for log in logs:
                    wait_for(lambda log=log: _states(log), timeout=60, what=f"{log.name} ready")
                started = time.monotonic()
                try:  # a rolled-back change: nobody hears of it
                    with transaction.atomic():
                        Domain.objects.create(domain=HOST, tenant=levis, is_primary=False)
                        raise RuntimeError
                except RuntimeError:
                    pass
                time.sleep(0.5)
                rolled_back = [_states(log) for log in logs]

                added = _commit(
                    lambda: Domain.objects.create(domain=HOST, tenant=levis, is_primary=False)
                )
                seen_added = [
                    wait_for(lambda log=log: _seen_after(log, f"levis:{status}", added),
                             timeout=10, what="the new host")
                    for log in logs
                ]  # fmt: skip
                suspended = _commit(lambda: _set_status(Municipality.Status.SUSPENDED))
                seen_suspended = [
                    wait_for(lambda log=log: _seen_after(log, "levis:suspended", suspended),
                             timeout=10, what="the suspension")
                    for log in logs
                ]  # fmt: skip
                removed = _commit(lambda: Domain.objects.filter(domain=HOST).delete())
                seen_removed = [
                    wait_for(lambda log=log: _seen_after(log, "-", removed),
                             timeout=10, what="the removal")
                    for log in logs
                ]  # fmt: skip
        finally:
            Domain.objects.filter(domain=HOST).delete()
            _set_status(status)

    assert rolled_back == [[(at, "-")] for at, _ in (_states(log)[0] for log in logs)]
    assert all(at < started for at, _ in (_states(log)[0] for log in logs))
    for moments, change in ((seen_added, added), (seen_suspended, suspended),
                            (seen_removed, removed)):  # fmt: skip
        assert all(moment - change[1] < WITHIN for moment in moments), (change, moments)
