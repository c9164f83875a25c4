"""Settings for bench/routing.py: the real settings with the routing middleware swapped.

BENCH_MODE: `none` (no tenant middleware at all), `stock` (django-tenants' TenantMainMiddleware)
or `relais` (Relais's TenantRoutingMiddleware). The URLconf holds one trivial view.
"""

import os

from shared_config.settings import *  # noqa: F403
from shared_config.settings import MIDDLEWARE

_ROUTING = "tenants.middleware.TenantRoutingMiddleware"
_position = MIDDLEWARE.index(_ROUTING)
MIDDLEWARE = [m for m in MIDDLEWARE if m != _ROUTING]
_mode = os.environ["BENCH_MODE"]
if _mode == "stock":
    MIDDLEWARE.insert(_position, "django_tenants.middleware.main.TenantMainMiddleware")
elif _mode == "relais":
    MIDDLEWARE.insert(_position, _ROUTING)
elif _mode != "none":
    raise ValueError(f"unknown BENCH_MODE {_mode!r}")

ROOT_URLCONF = "bench.urls"
PUBLIC_SCHEMA_URLCONF = "bench.urls"
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
