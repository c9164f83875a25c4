"""Helpers of the tests that go through a town's admin."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def admin_url(name: str, *args: object) -> str:
    return reverse(f"admin:crm_{name}", args=args, urlconf="shared_config.urls_tenants")


def state_purpose(
    client: Client, scope: str, next_url: str, reason: str = "request", details: str = ""
):
    """Answer the admin's purpose form (Law 25) the way its page does."""
    return client.post(
        admin_url("citizen_purpose"),
        {"reason": reason, "details": details, "scope": scope, "next": next_url},
    )
