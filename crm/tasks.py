"""Background tasks of a town's CRM. Each takes the town's schema explicitly and runs in it."""

from __future__ import annotations

from django_tasks import task
from django_tenants.utils import schema_context

from crm.outbox import notification_deliver
from crm.privacy import retention_apply


@task()
def apply_retention(schema_name: str) -> dict[str, int]:
    """Apply the town's retention rule (Law 25); safe to run again. Returns the counts."""
    with schema_context(schema_name):
        result = retention_apply()
    return {
        "requests": result.requests,
        "interactions": result.interactions,
        "citizens": result.citizens,
    }


@task()
def deliver_notification(schema_name: str, notification_id: int) -> str:
    """Send one message of the town's outbox (crm/outbox.py); safe to run twice."""
    with schema_context(schema_name):
        return str(notification_deliver(notification_id=notification_id))
