"""Sentry, configured in one place and only when SENTRY_DSN is set.

Events carry the schema name as a tag and no personal data: no IP address, no cookies, no
request body, no query string, no frame variables, no user e-mail (Québec Law 25).
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from django.db import connection
from sentry_sdk.integrations.django import DjangoIntegration

# Only these request headers are kept: others (Cookie, Authorization, Referer with its query
# string, forwarding addresses, API keys) may identify a person or carry a secret.
_KEPT_HEADERS = {
    "host",
    "user-agent",
    "accept",
    "accept-language",
    "content-type",
    "content-length",
}


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Tag the event with the current schema and drop what could identify a citizen."""
    event.setdefault("tags", {})["schema_name"] = getattr(connection, "schema_name", None) or "-"
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("query_string", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                key: value for key, value in headers.items() if key.lower() in _KEPT_HEADERS
            }
    # PostgreSQL puts the offending values in a DETAIL line ("Key (email)=(…) already exists").
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = "\n".join(
                line for line in exception["value"].splitlines() if not line.startswith("DETAIL:")
            )
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return event


def init_sentry(*, dsn: str, environment: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        # Frame variables hold requests, citizens and forms: never send them.
        include_local_variables=False,
        before_send=scrub_event,  # type: ignore[arg-type]
        traces_sample_rate=0.0,
    )
