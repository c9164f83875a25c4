"""A database that is away for a moment (a restart, a failover) is a 503 with Retry-After on
both APIs, never an error page: every write is one transaction, so nothing half-written stays."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
# The database went away (restart, failover) or refused the work for a passing reason (deadlock,
# timeout). Every write is one transaction, so nothing half-written stays; the client retries.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: Exception) -> str:
    """Log the cause (its class and first line: no query, no data) and return the message."""
    logger.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).partition("\n")[0])
    return _("Service momentanément indisponible. Réessayez dans quelques secondes.")
