"""Background tasks of the platform console."""

from __future__ import annotations

from django_tasks import task

from onboarding.services import rollup_refresh


@task()
def refresh_console_rollup() -> int:
    """Recompute every town's activity figures for the console home (visits every schema)."""
    return rollup_refresh()
