"""Settings for bench/portal.py: the product's settings, with a URLconf that adds the baseline
page (bench/portal_urls.py) in front of the town's own URLs. Nothing else changes."""

from shared_config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.portal_urls"
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
