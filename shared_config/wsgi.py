"""WSGI entry point (gunicorn shared_config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from shared_config.observability import set_role

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shared_config.settings")
set_role("web")

application = get_wsgi_application()
