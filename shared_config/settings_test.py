"""Settings for the test suite: the production settings with fast hashers and in-memory email.

Only what tests cannot do without differs; everything else is the real configuration.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "relais-tests-only")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("RELAIS_BASE_DOMAIN", "localhost")
# Integrations stay off in tests even when a developer's .env configures them.
for _name in (
    "SENTRY_DSN",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "EMAIL_URL",
):
    os.environ[_name] = ""
# Tests speak plain HTTP (the test client, the browser tests' server): no redirect to HTTPS, no
# HSTS, no secure cookies; and the policy is enforced, as in production.
for _name in ("RELAIS_HTTPS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
    os.environ[_name] = "0"
os.environ["RELAIS_CSP_REPORT_ONLY"] = "0"
os.environ["RELAIS_CSP_REPORT_URI"] = ""

from shared_config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No routing listener beside the tests' own connections (it would hold the test database open);
# the processes a test starts turn it on (tests/tenants/test_routing_listener.py).
RELAIS_ROUTING_LISTEN = os.environ.get("RELAIS_ROUTING_LISTEN") == "1"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests render pages without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "tenants.storage.PrivateTownStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Files tests upload go to folders of this run, not the developer's .data/.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="relais-tests-media-"))
RELAIS_PRIVATE_ROOT = Path(tempfile.mkdtemp(prefix="relais-tests-private-"))
# Tasks run at once in the test process (the immediate backend), unless a test starts a real
# worker process (RELAIS_TASKS_BACKEND=database in its environment).
if os.environ.get("RELAIS_TASKS_BACKEND") != "database":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Tests fill the pool themselves when they need spares, never in a background thread.
RELAIS_SPARE_POOL_SIZE = 0
# Text messages are kept in memory (crm.sms.MemorySmsSender.outbox), like e-mails.
RELAIS_SMS_SENDER = "crm.sms.MemorySmsSender"
# A worker process a test starts sends through the test's own SMTP server on loopback.
if os.environ.get("RELAIS_TEST_EMAIL_URL"):
    from shared_config.env import email_settings

    EMAIL_BACKEND = "crm.mail.HandoverSMTPBackend"
    globals().update(email_settings(os.environ["RELAIS_TEST_EMAIL_URL"]))
# A worker process a test starts reports to the test's own Sentry ingest endpoint on loopback.
if os.environ.get("RELAIS_TEST_SENTRY_DSN"):
    from shared_config.sentry import init_sentry

    init_sentry(dsn=os.environ["RELAIS_TEST_SENTRY_DSN"], environment="test")
