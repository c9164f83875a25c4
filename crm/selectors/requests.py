"""Reads of service requests: lists, timelines and nearby duplicates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.location import distance_m
from crm.models import (
    Department,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
    ServiceType,
    Visibility,
)
from crm.roles import CITIZEN, DEPARTMENT_ROLES, KEY, PUBLISHED, TOWN_WIDE_ROLES, Viewer
from crm.selectors.town import crm_settings

__all__ = [
    "NO_FILTERS",
    "DuplicateCandidate",
    "RequestFilters",
    "published_page_rows",
    "request_duplicate_candidates",
    "request_events_visible",
    "request_for",
    "request_list",
    "request_number_of_token",
    "request_timeline",
]


@dataclass(frozen=True)
class RequestFilters:
    """What a list of requests is narrowed to; empty fields do not narrow."""

    numbers: tuple[str, ...] = ()  # when given, the other fields are ignored (Open311's rule)
    statuses: frozenset[str] = frozenset()
    service_codes: tuple[str, ...] = ()
    department_code: str = ""
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    created_until: datetime | None = None  # inclusive


NO_FILTERS = RequestFilters()


def request_list(
    *, viewer: Viewer, filters: RequestFilters = NO_FILTERS
) -> QuerySet[ServiceRequest]:
    """The requests `viewer` may read, narrowed by `filters`, with what a list shows in a
    constant number of queries whatever the page size.

    Staff of a department (and supervisors) read their department's requests, agents and
    administrators all, a citizen their own, an API key all (the interface leaves out personal
    data), the public none; the published register (Open311) reads the requests of public
    types, with their public events, newest first."""
    requests = ServiceRequest.objects.all()
    if viewer.role == PUBLISHED:
        public_events = RequestEvent.objects.filter(visibility=Visibility.PUBLIC).order_by(
            "created_at", "id"
        )
        requests = (
            requests.filter(service_type__is_public=True)
            .select_related("service_type", "department", "duplicate_of")
            .prefetch_related(Prefetch("events", queryset=public_events, to_attr="public_events"))
            .order_by("-created_at", "-id")
        )
    else:
        # Only the relations a list shows: each join also costs planning time on every page.
        related = ["service_type", "department", "assignee", "duplicate_of"]
        if viewer.sees_personal_data:
            related.append("citizen")
        requests = requests.select_related(*related)
        if viewer.role in DEPARTMENT_ROLES:
            requests = requests.filter(department=viewer.department)
        elif viewer.role == CITIZEN:
            requests = requests.filter(citizen=viewer.citizen)
        elif viewer.role not in TOWN_WIDE_ROLES and viewer.role != KEY:
            return requests.none()
    return _narrowed(requests, filters)


def published_page_rows(
    requests: QuerySet[ServiceRequest], *, extensions: bool
) -> tuple[
    list[dict[str, Any]],
    dict[int, ServiceType],
    dict[int, Department],
    list[tuple[int, str, str, datetime, Any]],
]:
    """A page of the published register (a sliced `request_list`) as plain rows, in four
    queries: the requests' fields (with `channel`, `attributes` and the parent's number when
    `extensions`), their types and departments by id, and their public events that Open311
    shows (the creation, and those with a message), oldest first."""
    fields = [
        "id",
        "number",
        "status",
        "description",
        "address",
        "latitude",
        "longitude",
        "media_url",
        "created_at",
        "updated_at",
        "sla_due_at",
        "service_type_id",
        "department_id",
    ]
    if extensions:
        fields += ["channel", "attributes", "duplicate_of__number"]
    rows = list(requests.prefetch_related(None).values(*fields))
    if not rows:
        return [], {}, {}, []
    types = ServiceType.objects.in_bulk({row["service_type_id"] for row in rows})
    departments = Department.objects.in_bulk({row["department_id"] for row in rows})
    events = list(
        RequestEvent.objects.filter(
            request_id__in=[row["id"] for row in rows], visibility=Visibility.PUBLIC
        )
        .filter(Q(kind="created") | ~Q(message=""))
        .order_by("created_at", "id")
        .values_list("request_id", "kind", "message", "created_at", "data")
    )
    return rows, types, departments, events


def _narrowed(requests: QuerySet[ServiceRequest], filters: RequestFilters) -> QuerySet:
    if filters.numbers:
        return requests.filter(number__in=filters.numbers)
    if filters.statuses:
        requests = requests.filter(status__in=filters.statuses)
    if filters.service_codes:
        requests = requests.filter(service_type__code__in=filters.service_codes)
    if filters.department_code:
        requests = requests.filter(department__code=filters.department_code)
    if filters.created_after is not None:
        requests = requests.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        requests = requests.filter(created_at__lt=filters.created_before)
    if filters.created_until is not None:
        requests = requests.filter(created_at__lte=filters.created_until)
    return requests


def request_for(*, viewer: Viewer, number: str) -> ServiceRequest:
    """The request numbered `number` if `viewer` may read it. Raises CrmError `not_found`
    otherwise: a request one may not read does not exist for them."""
    service_request = request_list(viewer=viewer).filter(number=number).first()
    if service_request is None:
        raise CrmError(
            CrmErrorCode.NOT_FOUND,
            _("La requête {number} n'existe pas.").format(number=number[:40]),
            status=404,
        )
    return service_request


def request_events_visible(
    *, viewer: Viewer, service_request: ServiceRequest
) -> list[RequestEvent]:
    """The request's timeline as `viewer` may read it: staff everything, others its public
    events."""
    events = RequestEvent.objects.filter(request=service_request).select_related("actor")
    if not viewer.is_staff:
        events = events.filter(visibility=Visibility.PUBLIC)
    return list(events.order_by("created_at", "id"))


def request_number_of_token(*, token: str) -> str | None:
    """The number of the published request whose tracking token is `token`."""
    return (
        ServiceRequest.objects.filter(tracking_token=token, service_type__is_public=True)
        .values_list("number", flat=True)
        .first()
    )


def request_timeline(*, service_request: ServiceRequest, public_only: bool = False) -> QuerySet:
    events = service_request.events.select_related("actor").order_by("created_at", "id")
    return events.filter(visibility="public") if public_only else events


@dataclass(frozen=True)
class DuplicateCandidate:
    service_request: ServiceRequest
    distance_m: float


def request_duplicate_candidates(
    *,
    service_type: ServiceType,
    latitude: Decimal | None,
    longitude: Decimal | None,
    now: datetime,
    exclude_pk: int | None = None,
    radius_m: int | None = None,
) -> list[DuplicateCandidate]:
    """Open requests of the same type within `radius_m` (the town's duplicate radius by
    default) and the town's window, nearest first."""
    if latitude is None or longitude is None:
        return []
    settings = crm_settings()
    radius = radius_m or settings.duplicate_radius_m
    # A bounding box on the indexed columns first; the exact distance on the few rows left.
    dlat = Decimal(radius / 111_320)
    dlon = Decimal(radius / (111_320 * max(math.cos(math.radians(latitude)), 0.01)))
    candidates = (
        ServiceRequest.objects.filter(
            service_type=service_type,
            status__in=[
                RequestStatus.NEW,
                RequestStatus.ASSIGNED,
                RequestStatus.IN_PROGRESS,
                RequestStatus.ON_HOLD,
            ],
            created_at__gte=now - timedelta(days=settings.duplicate_window_days),
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlon, longitude + dlon),
        )
        .exclude(pk=exclude_pk or 0)
        .select_related("service_type")
    )
    found = [
        DuplicateCandidate(r, distance_m(latitude, longitude, r.latitude, r.longitude))
        for r in candidates
        if r.latitude is not None and r.longitude is not None  # the range above ensures it
    ]
    return sorted((c for c in found if c.distance_m <= radius), key=lambda c: c.distance_m)
