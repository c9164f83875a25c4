"""The town's URLs plus one bench-only view, `POST /bench/baseline/`: it inserts the request
body as one bare row (bench_intake_row, created by bench/intake.py in the town's schema), under
the same middleware, tenant routing and database connection as the API."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shared_config.urls_tenants import urlpatterns as town_urlpatterns


@csrf_exempt
@require_POST
def insert_row(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_intake_row (payload) VALUES (%s) RETURNING id",
            [request.body.decode()],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/baseline/", insert_row), *town_urlpatterns]
