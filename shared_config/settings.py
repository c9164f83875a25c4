"""Relais settings, driven by environment variables (see docs/operations.md for the list)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from shared_config.env import (
    email_settings,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent
_dotenv = env_str("RELAIS_DOTENV", str(BASE_DIR / ".env"))
if _dotenv:
    load_dotenv(Path(_dotenv))

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY est obligatoire quand DEBUG est désactivé "
            "(SECRET_KEY must be set when DEBUG is off). "
            "Définissez la variable d'environnement SECRET_KEY, ou DEBUG=1 en développement."
        )
    SECRET_KEY = "relais-dev-only-insecure-key"  # noqa: S105  (DEBUG only)

# --- Hosts and tenancy ---------------------------------------------------------------------------
RELAIS_BASE_DOMAIN = env_str("RELAIS_BASE_DOMAIN", "localhost").strip().lower()
# Towns on a custom domain (not a sub-domain of the base) are added with RELAIS_EXTRA_HOSTS.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [RELAIS_BASE_DOMAIN, f".{RELAIS_BASE_DOMAIN}"])
ALLOWED_HOSTS += env_list("RELAIS_EXTRA_HOSTS")
# How long a worker trusts its in-process host → town table before reloading it (one query).
# A change made in this process is seen at once; other workers see it within this delay.
RELAIS_ROUTING_CACHE_SECONDS = env_int("RELAIS_ROUTING_CACHE_SECONDS", 60)
# Each serving process hears routing changes at once (PostgreSQL LISTEN/NOTIFY, tenants/routing.py);
# off only where no process serves requests beside this one (the test suite).
RELAIS_ROUTING_LISTEN = env_bool("RELAIS_ROUTING_LISTEN", True)
# Schemas migrated in advance, so that provisioning a town is a rename (0 disables the pool).
RELAIS_SPARE_POOL_SIZE = env_int("RELAIS_SPARE_POOL_SIZE", 2)
# Port in the addresses Relais writes (invitations), when the site is not on 80/443.
RELAIS_PUBLIC_PORT = env_str("RELAIS_PUBLIC_PORT")

SHARED_APPS = [
    # Before django_tenants: its migrate_schemas (and migrate) commands are overridden here to
    # include the spare schemas, and the first app listed wins.
    "tenants",
    "django_tenants",
    "tenants.accounts",
    "onboarding",
    "billing",
    # Background work (Django's tasks API): the queue lives in the public schema, tasks take
    # the schema they act on as an argument.
    "django_tasks",
    "django_tasks_db",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenants.accounts.admin_config.RelaisAdminConfig",  # the admin behind allauth's sign-in
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]
# Users are per municipality: the user model, and every app with a foreign key to it, sits in
# both lists so that each schema (public for platform staff, one per town) has its own tables.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenants.accounts",
    "django.contrib.sessions",
    "tenants.accounts.admin_config.RelaisAdminConfig",  # the admin behind allauth's sign-in
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "django_htmx",
    "django_filters",
    "crm",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Municipality"
TENANT_DOMAIN_MODEL = "tenants.Domain"
AUTH_USER_MODEL = "accounts.User"
ROOT_URLCONF = "shared_config.urls_tenants"
PUBLIC_SCHEMA_URLCONF = "shared_config.urls_public"
# Set search_path once per connection and tenant change, not before every query.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    # First: the request's id and its one log line, whatever answers it.
    "shared_config.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before routing, so that what it answers itself (unknown host, suspended town, probes)
    # carries these headers too; after WhiteNoise, whose static files need none.
    "csp.middleware.CSPMiddleware",
    "shared_config.security_headers.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "shared_config.middleware.RequestHygieneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.municipality",
            ],
        },
    },
]

WSGI_APPLICATION = "shared_config.wsgi.application"


# --- Database -----------------------------------------------------------------------------------
# What stands between Relais and PostgreSQL: nothing (""), or a pooler such as pgbouncer in
# "session" mode. A pooler in "transaction" mode is refused: it hands each transaction to any
# server connection, and django-tenants sets a town's search_path once per connection, so a
# query would run in the town another request chose (bench/pooling.py shows it), besides the
# routing listener's LISTEN and the task worker's session lock. docs/scaling.md, "Connections".
DATABASE_POOLING = env_str("RELAIS_DATABASE_POOLING", "")
if DATABASE_POOLING == "transaction":
    raise ImproperlyConfigured(
        "RELAIS_DATABASE_POOLING=transaction est refusé : un pooler en mode transaction donne "
        "chaque transaction à n'importe quelle connexion du serveur, alors que le schéma de la "
        "ville (search_path) est choisi une fois par connexion. Une requête pourrait lire les "
        "données d'une autre ville. Utilisez pgbouncer en mode session (pool_mode = session) et "
        "RELAIS_DATABASE_POOLING=session."
    )
if DATABASE_POOLING not in ("", "session"):
    raise ImproperlyConfigured(
        f"RELAIS_DATABASE_POOLING={DATABASE_POOLING!r} : valeurs possibles « session » ou vide."
    )


def database_config(url: str) -> dict[str, object]:
    """Turn a postgres:// URL (socket directory allowed as ?host=) into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured("DATABASE_URL doit être une URL postgres:// ou postgresql://.")
    query = parse_qs(parts.query)
    host = query.pop("host", [parts.hostname or ""])[0]
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parts.path.lstrip("/")) or "relais",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": {key: values[0] for key, values in query.items()},
        # Persistent connections: opening one per request costs more than the request itself.
        # Behind a session pooler, a connection to it is cheap and holds a server connection
        # for as long as it lives: each request takes one and gives it back.
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 0 if DATABASE_POOLING == "session" else 600),
        "CONN_HEALTH_CHECKS": True,
    }


DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    from shared_config.embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url(BASE_DIR / ".data")
DATABASES = {"default": database_config(DATABASE_URL)}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every process (rate limits and sign-in lock-outs count in it): Redis when
# REDIS_URL is set, else a table of the database (shared_config/cache.py). Never per process.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": {
        **(
            {"BACKEND": "shared_config.cache.RedisCache", "LOCATION": REDIS_URL}
            if REDIS_URL
            else {"BACKEND": "shared_config.cache.PostgresCache", "LOCATION": "relais_cache"}
        ),
        "KEY_PREFIX": env_str("RELAIS_CACHE_PREFIX", "relais"),
        # Every cache key carries the schema name, so towns never read each other's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Background tasks -----------------------------------------------------------------------------
# "database": a PostgreSQL table, run by `manage.py db_worker` (no broker); "immediate": run in
# the calling process (tests, or a deployment without a worker).
RELAIS_TASKS_BACKEND = env_str("RELAIS_TASKS_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            # django-tasks-db's, storing the id of the request that queues a task with it.
            "database": "tenants.tasks_backend.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }.get(RELAIS_TASKS_BACKEND, "tenants.tasks_backend.DatabaseBackend")
    }
}

# --- Accounts -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in (django-allauth): by e-mail address, no user name, no public sign-up. Platform staff
# (public schema) are invited from the console and must turn on two-factor authentication.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "crm.accounts.CitizenAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# A sign-up never says whether the address already has an account: the owner gets an e-mail
# instead, which needs every address to be verified (by a code, on the web and in the app).
# Accounts that a town or the platform creates are verified by their invitation.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Relais] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("RELAIS_HTTPS", default=not DEBUG) else "http"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Relais"
# One 30-second step either side, as RFC 6238 (section 5.2) recommends: a code typed as the step
# ends, or on a phone whose clock drifts a little, still opens. allauth's default (0) refuses it,
# and refused a test's sign-in whose code crossed a step boundary in flight. A code is still
# used once (allauth marks it for the whole window) and attempts stay rate-limited.
MFA_TOTP_TOLERANCE = 1
MFA_FORMS = {"activate_totp": "tenants.accounts.forms.ActivateTOTPForm"}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# The mobile app signs citizens in through allauth's headless API (X-Session-Token).
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_SERVE_SPECIFICATION = False

# --- APIs (REST under /api/v1/, Open311 GeoReport v2 under /open311/v2/) ------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ApiKeyAuthentication",
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttling.ApiKeyThrottle",
        "crm.api.throttling.ClientAddressThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env_str("RELAIS_API_KEY_RATE", "1200/min"),
        "client": env_str("RELAIS_API_CLIENT_RATE", "600/min"),
    },
    "EXCEPTION_HANDLER": "crm.api.rest.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only: the documentation is at /api/docs/. DRF's browsable pages failed (500) on
    # views without a queryset, and would show staff data in a browser's history.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Who the client is, for throttling: the connection's address, or behind proxies the address
    # the nearest trusted proxy appended to X-Forwarded-For (never what the client wrote there).
    "NUM_PROXIES": env_int(
        "RELAIS_TRUSTED_PROXIES", 1 if env_bool("RELAIS_BEHIND_PROXY", default=False) else 0
    ),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Relais — API REST",
    "DESCRIPTION": (
        "API d'une municipalité sur Relais : catalogue, banque d'information, requêtes, "
        "citoyens et interactions. Authentification : session, clé d'API "
        "(Authorization: Api-Key …) ou jeton de session de l'application mobile "
        "(X-Session-Token)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["crm.api.rest.schema.only_the_rest_api"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Languages and time -------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Toronto"
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# django-leaflet's copy of Leaflet (script, styles, marker images), served from our own static
# files. Not an installed app: its admin module needs GDAL, which Relais does not use
# (docs/decisions/0008-maps-without-gdal.md).
# (Found without importing it: the package reads the settings when imported.)
_leaflet = find_spec("leaflet")
if _leaflet is None or not _leaflet.submodule_search_locations:
    raise ImproperlyConfigured("django-leaflet is not installed: run make .venv/.installed.")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    Path(next(iter(_leaflet.submodule_search_locations))) / "static",
]
# Town archives made from the console (they hold personal data: keep the folder private).
RELAIS_EXPORT_DIR = Path(env_str("RELAIS_EXPORT_DIR", str(BASE_DIR / ".data" / "exports")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
# Files staff attach to requests: never under MEDIA_URL (nothing serves them but the staff
# workspace's view, which checks who asks), one folder per town (the schema's name: see
# tenants/storage.py).
RELAIS_PRIVATE_ROOT = Path(env_str("RELAIS_PRIVATE_ROOT", str(BASE_DIR / ".data" / "private")))
# The largest attachment staff may add to a request (bytes). Keep it under the proxy's own
# limit (deploy/nginx.conf: client_max_body_size 20m), so that a larger file gets the
# workspace's message rather than the proxy's bare 413 page.
RELAIS_ATTACHMENT_MAX_BYTES = env_int("RELAIS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "tenants.storage.PrivateTownStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Maps (the staff workspace and the portal place requests on one) ----------------------------
# A tile server the town may use (OpenStreetMap's tiles are for light use only: a town with
# traffic sets its own provider). Its host is added to the pages' Content-Security-Policy for
# images; a typed address is always offered beside the map.
RELAIS_MAP_TILES_URL = env_str(
    "RELAIS_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
RELAIS_MAP_ATTRIBUTION = env_str("RELAIS_MAP_ATTRIBUTION", "© OpenStreetMap contributors")
LEAFLET_CONFIG = {
    "TILES": [("", RELAIS_MAP_TILES_URL, {"attribution": RELAIS_MAP_ATTRIBUTION})],
    "DEFAULT_CENTER": (45.57, -73.72),
    "DEFAULT_ZOOM": 12,
    "RESET_VIEW": False,
}

# --- Security -----------------------------------------------------------------------------------
# Production serves HTTPS only (docs/operations.md, "Security headers"). RELAIS_HTTPS turns on,
# together, secure cookies, the redirect of plain HTTP to HTTPS and HSTS; each can still be set
# on its own. Development (DEBUG) is plain HTTP on localhost and gets none of them.
# Cookies are host-only (no *_COOKIE_DOMAIN): a town's session never reaches another subdomain.
RELAIS_HTTPS = env_bool("RELAIS_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = RELAIS_HTTPS
CSRF_COOKIE_SECURE = RELAIS_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=RELAIS_HTTPS)
# Probes call the pods over plain HTTP (shared_config/health.py): a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# One year, for the base domain and every town under it (all served by Relais, all HTTPS).
# No preload by default: the preload list takes a whole registrable domain (the host city's
# own, with every sub-domain it will ever have) and is slow to leave; a deployment on a domain
# of its own may opt in. docs/decisions/0002-hsts-sub-domains-without-preload.md
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if RELAIS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Django's deploy check warns whenever preload is off: here that is the decision above.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A request refused for its CSRF token answers in the client's format (the APIs' JSON).
CSRF_FAILURE_VIEW = "shared_config.errors.csrf_failure"
if env_bool("RELAIS_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Content-Security-Policy (django-csp): everything from the page's own origin, nothing inline
# but a <style> carrying the request's nonce (a town's colour). A page that needs more widens
# it for itself with csp_update (the API documentation: crm/api/rest/urls.py). Same policy with
# DEBUG on, except that django-csp leaves Django's debug 404 and 500 pages without one.
RELAIS_CSP_DIRECTIVES: dict[str, list[object]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF, NONCE],
    "img-src": [SELF, "data:"],  # data: for the QR code of the second-factor set-up
    "font-src": [SELF],
    "connect-src": [SELF],
    "object-src": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
# Where browsers send violation reports (e.g. Sentry's security endpoint); none by default.
if _csp_report_uri := env_str("RELAIS_CSP_REPORT_URI"):
    RELAIS_CSP_DIRECTIVES["report-uri"] = [_csp_report_uri]
# Report-only, for a rollout that must not break a page (violations are reported, and shown in
# the browser's console, instead of blocked): never the default.
if env_bool("RELAIS_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": RELAIS_CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": RELAIS_CSP_DIRECTIVES}
# Browser features no page of Relais uses are refused, for its pages and anything they embed;
# geolocation stays open to the town's own pages (placing a report on a map).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# --- Email (files under .data/mail until EMAIL_URL is set) --------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Relais <ne-pas-repondre@{RELAIS_BASE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    # The SMTP backend that tells the outbox when a message is handed over (crm/outbox.py).
    EMAIL_BACKEND = "crm.mail.HandoverSMTPBackend"
    globals().update(email_settings(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / ".data" / "mail"
# Text messages: a class with `send(*, to, body, reference)` (crm/sms.py). The default writes
# them as files under .data/sms, like e-mails without EMAIL_URL.
RELAIS_SMS_SENDER = env_str("RELAIS_SMS_SENDER", "crm.sms.FileSmsSender")
RELAIS_SMS_FILE_PATH = BASE_DIR / ".data" / "sms"

# --- Stripe (off until STRIPE_SECRET_KEY is set) ------------------------------------------------
# STRIPE_API_KEY is the same setting under the name the billing docs use.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY") or env_str("STRIPE_API_KEY")
STRIPE_TIMEOUT_SECONDS = 15
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_ENABLED = bool(STRIPE_SECRET_KEY)

# --- Sentry (off until SENTRY_DSN is set) -------------------------------------------------------
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
if SENTRY_DSN:
    from shared_config.sentry import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# A serving process's connection is replaced after it has served this many towns: a backend's
# memory grows with every schema it touches (tenants/connection_budget.py).
RELAIS_CONNECTION_MAX_SCHEMAS = env_int("RELAIS_CONNECTION_MAX_SCHEMAS", 100)

# Towns migrated at once by `migrate_schemas --executor=multiprocessing`, one database
# connection each (tenants/management/commands/migrate_schemas.py).
RELAIS_MIGRATION_PROCESSES = env_int("RELAIS_MIGRATION_PROCESSES", 2)

# --- Metrics (Prometheus, /metrics) ----------------------------------------------------------
# Addresses (or networks) allowed to read /metrics: the scraper's. The address is the one the
# nearest trusted proxy saw (RELAIS_TRUSTED_PROXIES); nginx refuses the path anyway.
RELAIS_METRICS_ALLOWED = env_str("RELAIS_METRICS_ALLOWED", "127.0.0.1,::1").split(",")

# --- Logging (schema name on every line, no personal data) --------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# JSON lines in production (what log collectors parse), plain lines in development.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "schema": {"()": "shared_config.logging.SchemaNameFilter"},
        "no_query_string": {"()": "shared_config.logging.NoQueryStringFilter"},
        "secret_paths": {"()": "shared_config.logging.SecretPathFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(schema_name)s] %(name)s: %(message)s"},
        "json": {"()": "shared_config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["schema"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The development server's request lines, without their query strings.
        "django.server": {"filters": ["no_query_string"]},
        # The paths of the requests it could not serve, without their secrets.
        "django.request": {"filters": ["secret_paths"]},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
