"""Shared by the 311 desk's tests: stating a purpose, posting a form as its page does."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django_tenants.utils import schema_context

from crm.models import AccessLog

DESK = "/personnel/"
PURPOSE = "/personnel/motif/"
LOG_CALL = "/personnel/appel/"
NEW_REQUEST = "/personnel/nouvelle-requete/"


def token(page_text: str) -> str:
    """The submission token of the (first) form of a page."""
    found = re.search(r'name="submission" value="([0-9a-f]+)"', page_text)
    assert found, "no submission token on the page"
    return found.group(1)


def state_purpose(
    client: Client, scope: str, next_url: str = DESK, reason: str = "contact", details: str = ""
) -> Any:
    """Answer the desk's purpose form (Law 25) as its page does."""
    return client.post(
        PURPOSE,
        {
            "reason": reason,
            "details": details,
            "scope": scope,
            "next": next_url,
            "submission": token(client.get(DESK).text),
        },
    )


def access_rows(schema: str = "laval") -> list[tuple[Any, ...]]:
    with schema_context(schema):
        return list(
            AccessLog.objects.order_by("pk").values_list(
                "citizen_id", "purpose", "context", "details"
            )
        )


def counted(queries: Any) -> int:
    """The queries a page made, without the test's own switch of schema between pages."""
    return sum(1 for query in queries.captured_queries if not query["sql"].startswith("SET "))
