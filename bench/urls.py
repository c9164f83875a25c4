"""Two views for bench/routing.py: `/ping` makes no query (the best case for any routing), and
`/query` makes one, as every real page does: it counts the rows of `django_migrations`, a table
that the public schema and every town's have, so that each mode does the same work (in the
town's schema when a middleware bound it, in public without one)."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong", content_type="text/plain")


def query(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        (count,) = cursor.fetchone()
    return HttpResponse(str(count), content_type="text/plain")


urlpatterns = [path("ping", ping), path("query", query)]
