"""Request rates: per API key, and per client address for everyone (keys included).

Counters live in the cache, whose keys carry the schema name: a town's clients never use up
another town's allowance. Over the rate, DRF answers 429 with a Retry-After header.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiKey


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return f"throttle:key:{request.auth.pk}"


class ClientAddressThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return f"throttle:client:{self.get_ident(request)}"
