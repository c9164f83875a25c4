"""Settings for bench/intake.py: the product's settings, with a URLconf that adds the baseline
view (bench/intake_urls.py) in front of the town's own URLs. Nothing else changes."""

from shared_config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_urls"
LOG_LEVEL = "WARNING"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
