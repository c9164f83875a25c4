"""Request rates: per API key, and per client address for everyone (keys included).

Counters live in the cache, whose keys carry the schema name: a town's clients never use up
another town's allowance. Over the rate, DRF answers 429 with a Retry-After header.

Each counter counts the requests of one window of the rate's period (a minute for `…/min`):
one atomic step per request in the shared cache (`count` in the database's cache table and in
Redis, shared_config/cache.py), whatever the rate; a view's counters (per key, per client) are
counted together (`WindowThrottled`). A counter expires at the end of its window and the next
request starts it again. DRF's own throttle kept the time of every request of the period in one
entry, read and written whole on each request: its cost grew with the rate, and two processes
writing it at once lost one of their requests. A client can reach twice the rate across the
boundary of two windows, never more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiKey


def window_count(cache: BaseCache, key: str, timeout: int) -> int:
    """Add one to the counter `key` (started at 1, expiring in `timeout` seconds, when missing
    or expired) and return its value: atomic in Redis and in the database's cache table."""
    count = getattr(cache, "count", None)
    if count is not None:
        return int(count(key, timeout))
    # Another backend (not used in production): add then incr, which may lose a request.
    if cache.add(key, 1, timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout)
        return 1


def windows_count(cache: BaseCache, counters: Sequence[tuple[str, int]]) -> list[int]:
    """`window_count` of each (key, timeout), in one statement when the cache can (the
    database's cache table)."""
    if not counters:
        return []
    count_many = getattr(cache, "count_many", None)
    keys = [key for key, _timeout in counters]
    if count_many is not None and len(set(keys)) == len(keys):
        return [int(count) for count in count_many(counters)]
    return [window_count(cache, key, timeout) for key, timeout in counters]


class WindowRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates, scopes and client addresses, counted by windows."""

    cache = default_cache
    window_end = 0.0

    def window_key(self, request: Request, view: Any) -> str | None:
        """This request's counter, or None when it is not limited; sets the current window."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        self.now = self.timer()
        self.window_end = (int(self.now // self.duration) + 1) * self.duration
        return key

    def window_timeout(self) -> int:
        """Seconds until the current window ends (rounded up: a counter never lapses before
        its window does)."""
        return max(1, math.ceil(self.window_end - self.now))

    def allow_request(self, request: Request, view: Any) -> bool:
        key = self.window_key(request, view)
        if key is None:
            return True
        return window_count(self.cache, key, self.window_timeout()) <= self.num_requests

    def wait(self) -> float | None:
        return max(self.window_end - self.now, 1.0)


class ApiKeyThrottle(WindowRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return f"throttle:key:{request.auth.pk}"


class ClientAddressThrottle(WindowRateThrottle):
    scope = "client"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return f"throttle:client:{self.get_ident(request)}"


class WindowThrottled:
    """For an API view: its window throttles (per key, per client address) count in one step
    of the shared cache instead of one each; other throttles as DRF runs them."""

    def check_throttles(self, request: Request) -> None:
        durations: list[float | None] = []
        counted: list[tuple[WindowRateThrottle, str]] = []
        for throttle in self.get_throttles():  # type: ignore[attr-defined]
            if isinstance(throttle, WindowRateThrottle):
                key = throttle.window_key(request, self)
                if key is not None:
                    counted.append((throttle, key))
            elif not throttle.allow_request(request, self):
                durations.append(throttle.wait())
        counts = windows_count(
            default_cache, [(key, throttle.window_timeout()) for throttle, key in counted]
        )
        for (throttle, _key), count in zip(counted, counts, strict=True):
            if count > throttle.num_requests:
                durations.append(throttle.wait())
        known = [duration for duration in durations if duration is not None]
        if durations:
            self.throttled(request, max(known, default=None))  # type: ignore[attr-defined]
