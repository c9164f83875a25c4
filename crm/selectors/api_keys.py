"""Reads of API keys."""

from __future__ import annotations

from crm.models import (
    ApiKey,
    api_key_digest,
)
from crm.selectors.town_config import town_config

__all__ = [
    "api_key_for",
]


def api_key_for(*, key: str) -> ApiKey | None:
    """The active key whose digest matches `key`, or None (unknown, malformed or revoked)."""
    if not key or len(key) > 200:
        return None
    return town_config().api_key(digest=api_key_digest(key))
