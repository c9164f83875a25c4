"""Background tasks of the tenancy layer (run by `manage.py db_worker`, see tenants/worker.py).

A task may run more than once (again after its worker died, or on two workers at once): each
one leaves the same result however often it runs.
"""

from __future__ import annotations

from django_tasks import task

from tenants.provisioning import spare_pool_refill


@task()
def refill_spare_pool(size: int | None = None) -> int:
    """Bring the pool of spare schemas back to its size (migrations, a few seconds each).
    Returns how many spares this run created; concurrent runs never overfill the pool."""
    return spare_pool_refill(size=size)
