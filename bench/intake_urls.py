"""The town's URLs plus one bench-only view, `POST /bench/baseline/`: the database's own cost of
what an API POST stores, under the same middleware, tenant routing and database connection as
the API. From the JSON body it writes, in one SQL statement (one round trip, one transaction,
its deferred constraints checked at its commit): the year's number taken from the town's
counter, the request in `crm_servicerequest` (the real table, all its indexes) with its type
and department looked up by code, and its creation event in `crm_requestevent`. It answers the
new request's id and number. What it leaves out is the product's own work: authentication,
rate limits, validation, routing, the SLA on the town's calendar, the response's fields."""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shared_config.urls_tenants import urlpatterns as town_urlpatterns

BASELINE_SQL = """
WITH type AS (
    SELECT id, kind, department_id FROM crm_servicetype WHERE code = %(code)s AND is_active
), counter AS (
    INSERT INTO crm_requestcounter (year, last_number) VALUES (%(year)s, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = crm_requestcounter.last_number + 1
    RETURNING last_number
), request AS (
    INSERT INTO crm_servicerequest (
        number, kind, status, priority, description, address, latitude, longitude, channel,
        channel_detail, attributes, media_url, sla_due_at, sla_warn_at,
        first_contact_resolution, cancellation_reason, tracking_token, created_at, updated_at,
        department_id, service_type_id)
    SELECT %(year)s || '-' || lpad(counter.last_number::text, 6, '0'), type.kind, 'new',
        'normal', %(description)s, %(address)s, %(latitude)s, %(longitude)s, 'api',
        'bench-baseline', %(attributes)s, '', now() + interval '2 days',
        now() + interval '1 day', false, '', md5(random()::text || clock_timestamp()::text),
        now(), now(), type.department_id, type.id
    FROM type, counter
    RETURNING id, number
)
INSERT INTO crm_requestevent (request_id, kind, visibility, from_status, to_status, message,
                              data, created_at)
SELECT id, 'created', 'public', '', 'new', '', '{"channel": "api"}', now() FROM request
RETURNING request_id, (SELECT number FROM request)
"""


@csrf_exempt
@require_POST
def baseline(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            BASELINE_SQL,
            {
                "code": body["service_code"],
                "year": timezone.localdate().year,
                "description": body.get("description", ""),
                "address": body.get("address", ""),
                "latitude": body.get("latitude"),
                "longitude": body.get("longitude"),
                "attributes": json.dumps(body.get("attributes", {})),
            },
        )
        request_id, number = cursor.fetchone()
    return JsonResponse({"id": request_id, "number": number}, status=201)


urlpatterns = [path("bench/baseline/", baseline), *town_urlpatterns]
