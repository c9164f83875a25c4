"""Sentry, configured in one place and only when SENTRY_DSN is set.

Events carry the town's schema, the process's role (web, worker, command), the release and the
request's id as tags, and no personal data (Québec Law 25): no IP address, cookies, request
body or query string, no frame variables, the user's id only; and a scrubber goes over what
is left, in events and breadcrumbs alike: fields named for a person (name, e-mail, phone,
address, description, message…) lose their value, and e-mail addresses, phone numbers,
civic addresses and tokens are cut out of every text (exception messages, log messages).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sentry_sdk
from django.db import connection
from sentry_sdk.integrations.django import DjangoIntegration

from shared_config.log_paths import loggable_path
from shared_config.observability import request_id_var, role, task_id_var

FILTERED = "[Filtré]"

# Only these request headers are kept: others (Cookie, Authorization, Referer with its query
# string, forwarding addresses, API keys) may identify a person or carry a secret.
_KEPT_HEADERS = {
    "host",
    "user-agent",
    "accept",
    "accept-language",
    "content-type",
    "content-length",
    "x-request-id",
}

# Keys whose value is personal or secret wherever they appear in an event's free-form parts
# (extra data, breadcrumb data, contexts of our own): compared lower-case.
_PERSONAL_KEYS = {
    "first_name",
    "last_name",
    "full_name",
    "prenom",
    "nom",
    "email",
    "courriel",
    "phone",
    "telephone",
    "téléphone",
    "address",
    "address_string",
    "adresse",
    "description",
    "message",
    "body",
    "text",
    "note",
    "comment",
    "password",
    "token",
    "api_key",
    "secret",
    "authorization",
    "cookie",
    "db.params",
    "params",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# North American numbers as people write them: 514-555-0199, (514) 555 0199, +1 514.555.0199.
_PHONE = re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\w)")
# A civic address: a number, then a street word (French or English), then the rest of the line.
_CIVIC = re.compile(
    r"\b\d{1,6}[\s,]+(?:rue|avenue|av\.|boulevard|boul\.|bd|chemin|ch\.|route|rang|place|"
    r"montée|côte|croissant|allée|impasse|promenade|street|st\.?|road|rd\.?|drive|dr\.?)\b[^\n,;]*",
    re.IGNORECASE,
)
# Tokens: API keys (`rls_…`), and any run of 20 letters and digits or more such as a tracking
# or unfollow token (22), a reset key or a session id.
_TOKEN = re.compile(r"\brls_[\w-]+|\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}\b")


def scrub_text(text: str) -> str:
    """`text` without e-mail addresses, phone numbers, civic addresses or tokens."""
    for pattern in (_EMAIL, _TOKEN, _CIVIC, _PHONE):
        text = pattern.sub(FILTERED, text)
    return text


def _personal(key: object) -> bool:
    return isinstance(key, str) and key.lower() in _PERSONAL_KEYS


def _scrub(value: Any) -> Any:
    """A copy of `value` with personal keys filtered and every text scrubbed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if _personal(key) and item not in (None, "") else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _loggable_url(url: str) -> str:
    """The URL without its query string, without the secret some paths carry (a reset link:
    shared_config.log_paths), scrubbed."""
    parts = urlsplit(url)
    return scrub_text(urlunsplit(parts._replace(path=loggable_path(parts.path), query="")))


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """A breadcrumb's message scrubbed; a SQL query keeps its text (placeholders, never the
    values) and loses its parameters; other data is scrubbed by key and content."""
    if isinstance(crumb.get("message"), str):
        crumb["message"] = scrub_text(crumb["message"])
    if crumb.get("category") == "query":
        crumb.pop("data", None)
    elif isinstance(crumb.get("data"), dict):
        crumb["data"] = _scrub(crumb["data"])
    return crumb


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Tag the event with the current schema, role and request, and drop what could identify
    a citizen."""
    tags = event.setdefault("tags", {})
    # A task's scope names its town (tenants.worker); elsewhere, the connection's schema.
    tags.setdefault("schema_name", getattr(connection, "schema_name", None) or "-")
    tags["role"] = role()
    for name, var in (("request_id", request_id_var), ("task_id", task_id_var)):
        if var.get():
            tags[name] = var.get()
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("query_string", None)
        request.pop("env", None)
        if isinstance(request.get("url"), str):
            request["url"] = _loggable_url(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                key: value for key, value in headers.items() if key.lower() in _KEPT_HEADERS
            }
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            # PostgreSQL puts the offending values in a DETAIL line ("Key (email)=(…) exists").
            exception["value"] = scrub_text(
                "\n".join(
                    line
                    for line in exception["value"].splitlines()
                    if not line.startswith("DETAIL:")
                )
            )
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        event["logentry"] = {
            key: _scrub(value) for key, value in logentry.items() if key != "params"
        }
    if isinstance(event.get("message"), str):
        event["message"] = scrub_text(event["message"])
    if "extra" in event:
        event["extra"] = _scrub(event["extra"])
    breadcrumbs = event.get("breadcrumbs")
    values = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in values or []:
        if isinstance(crumb, dict):
            scrub_breadcrumb(crumb, {})
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return event


def release() -> str:
    """SENTRY_RELEASE; else `relais@` and the image's RELAIS_RELEASE (its build argument); else
    the commit Sentry finds (a checkout); else the project's version."""
    from importlib.metadata import PackageNotFoundError, version

    if os.environ.get("SENTRY_RELEASE"):
        return os.environ["SENTRY_RELEASE"]
    if os.environ.get("RELAIS_RELEASE"):
        return f"relais@{os.environ['RELAIS_RELEASE']}"
    found = sentry_sdk.utils.get_default_release()
    if found:
        return found
    try:
        return f"relais@{version('relais')}"
    except PackageNotFoundError:
        return "relais@unknown"


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    # django-tasks logs each failed task at ERROR, without its exception when the worker runs
    # it: the worker reports the failure itself, with the exception and the task's tags
    # (tenants.worker). Elsewhere (the immediate backend) that line is the only report.
    if role() == "worker" and event.get("logger") == "django_tasks":
        return None
    return scrub_event(event, hint)


def init_sentry(*, dsn: str, environment: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release(),
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        # Frame variables hold requests, citizens and forms: never send them.
        include_local_variables=False,
        before_send=before_send,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
    )
