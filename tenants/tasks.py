"""Background tasks of the tenancy layer."""

from __future__ import annotations

from django_tasks import task

from tenants.provisioning import spare_pool_refill


@task()
def refill_spare_pool() -> int:
    """Bring the pool of spare schemas back to its size (migrations, a few seconds each)."""
    return spare_pool_refill()
