"""A town URLconf with views that fail, to see what reaches Sentry and what the client gets."""

import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("panne simulée")


def chatty_failing_view(request: HttpRequest) -> HttpResponse:
    """Fails after logging, as careless code could, what a citizen typed."""
    logging.getLogger("tests.urls_failing").warning(
        "signalement de %s au %s", request.POST.get("email"), request.POST.get("phone")
    )
    raise RuntimeError(f"panne pour {request.POST.get('email')}, {request.POST.get('address')}")


def database_away_view(request: HttpRequest) -> HttpResponse:
    raise OperationalError("the database system is shutting down")


urlpatterns = [
    path("panne", failing_view),
    path("panne-bavarde", chatty_failing_view),
    path("api/v1/panne/", failing_view),
    path("open311/v2/panne.xml", failing_view),
    path("base-absente", database_away_view),
    path("api/v1/base-absente/", database_away_view),
]
handler500 = "shared_config.errors.server_error"
