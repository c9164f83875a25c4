"""ASGI entry point. Relais is served under WSGI (sync views bind the schema to the thread's
connection); this exists for tooling that expects it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shared_config.settings")

application = get_asgi_application()
