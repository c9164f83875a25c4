"""Reads of API keys."""

from __future__ import annotations

from crm.models import (
    ApiKey,
    api_key_digest,
)

__all__ = [
    "api_key_for",
]


def api_key_for(*, key: str) -> ApiKey | None:
    """The active key whose digest matches `key`, or None (unknown, malformed or revoked)."""
    if not key or len(key) > 200:
        return None
    return ApiKey.objects.filter(digest=api_key_digest(key), revoked_at__isnull=True).first()
