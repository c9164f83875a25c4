"""The default database connection, typed as what the settings make it: django-tenants' wrapper
(ENGINE `django_tenants.postgresql_backend`), which knows its schema and its tenant."""

from __future__ import annotations

from typing import cast

from django.db import connection as default_connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

connection = cast(DatabaseWrapper, default_connection)
