"""Typed helpers that read configuration from the environment.

A `.env` file at the project root (git-ignored, written by `make`) supplies defaults for local
work; real environment variables always win over it. `RELAIS_DOTENV` names another file, or
an empty value disables it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "oui", "vrai"}
_FALSE = {"0", "false", "no", "off", "non", "faux", ""}


def load_dotenv(path: Path) -> None:
    """Load KEY=VALUE lines from `path` into os.environ without overriding what is set."""
    if not path.is_file():
        return
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key, value)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Django's e-mail settings from `EMAIL_URL`:

    - `smtp://user:password@host:port`: SMTP without encryption (a relay on the machine);
    - `smtp+tls://…` (port 587 by default): SMTP with STARTTLS;
    - `smtps://…` (port 465 by default): SMTP over TLS;
    - a `?timeout=` in seconds (10 by default). User and password are URL-encoded.
    """
    parts = urlsplit(url)
    schemes = {
        "smtp": (25, False, False),
        "smtp+tls": (587, True, False),
        "smtps": (465, False, True),
    }
    if parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://host:25, smtp+tls://user:password@host:587 or "
            "smtps://user:password@host:465."
        )
    port, use_tls, use_ssl = schemes[parts.scheme]
    query = parse_qs(parts.query)
    try:
        timeout = int(query.get("timeout", ["10"])[0])
        port = parts.port or port
    except ValueError as error:
        raise ImproperlyConfigured(f"EMAIL_URL has a bad port or timeout: {error}") from error
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": timeout,
    }
