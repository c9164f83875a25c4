"""How often one client address may ask the portal's map for the open requests near a point.

A citizen moves the pin a few times; a script sweeping the town's map to list every open
request, its place and its description, asks thousands of times. The counter is the API's
(counted by windows, crm/api/throttling.py), kept in the shared cache (every process counts
together; its keys carry the town's schema, so one town's visitors never use up another's
allowance). The client address is the API's: the connection's,
or behind RELAIS_TRUSTED_PROXIES the one the nearest trusted proxy saw."""

from __future__ import annotations

from typing import Any

from crm.api.throttling import WindowRateThrottle

# A kiosk at the town hall shares one address with many citizens: a minute's allowance for a
# few of them moving their pin at once.
NEARBY_RATE = "60/min"


class NearbyThrottle(WindowRateThrottle):
    rate = NEARBY_RATE

    def get_cache_key(self, request: Any, view: Any) -> str:
        return f"throttle:portal-nearby:{self.get_ident(request)}"
