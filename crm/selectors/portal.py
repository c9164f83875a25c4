"""Reads of the citizen portal: the public information bank (categories, most consulted answers,
search, one answer) and a request followed by its number and tracking token.

Only published articles for the public are ever returned; a request is found only with both its
number and its token (the token is the secret the citizen was given)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Q, Sum

from crm.errors import CrmError
from crm.location import coordinate_parse
from crm.models import (
    Citizen,
    Consent,
    ConsentPurpose,
    EventKind,
    FaqArticle,
    FaqAudience,
    FaqConsultation,
    FaqStatus,
    RequestEvent,
    RequestSubscription,
    SatisfactionResponse,
    ServiceCategory,
    ServiceKind,
    ServiceRequest,
    ServiceType,
    Visibility,
    fold_text,
)
from crm.roles import PUBLIC, Viewer
from crm.search import FaqHit, faq_search
from crm.selectors.catalog import service_type_for_intake
from crm.selectors.requests import DuplicateCandidate, request_duplicate_candidates

__all__ = [
    "ACCOUNT_REQUESTS",
    "PORTAL_NEARBY_M",
    "PORTAL_POPULAR_DAYS",
    "PortalCategory",
    "ReportGroup",
    "portal_answer",
    "portal_answers_in",
    "portal_categories",
    "portal_category",
    "portal_consents_of",
    "portal_followed_of",
    "portal_nearby_requests",
    "portal_popular_answers",
    "portal_preferences_of",
    "portal_report_type",
    "portal_report_types",
    "portal_request_events",
    "portal_requests_of",
    "portal_satisfaction",
    "portal_search",
    "portal_subscription",
    "portal_tracked_request",
]

# The home page's "most consulted" answers count the readings of this many days.
PORTAL_POPULAR_DAYS = 90


def _public() -> Q:
    return Q(audience=FaqAudience.PUBLIC, status=FaqStatus.PUBLISHED)


@dataclass(frozen=True)
class PortalCategory:
    category: ServiceCategory
    answers: int


def portal_categories() -> list[PortalCategory]:
    """The categories that hold at least one public answer, in the catalog's order, with their
    number of answers. One query."""
    categories = (
        ServiceCategory.objects.annotate(
            # On the joined rows themselves: an IN over the whole bank grows with its size.
            answers=Count(
                "faq_articles",
                filter=Q(
                    faq_articles__audience=FaqAudience.PUBLIC,
                    faq_articles__status=FaqStatus.PUBLISHED,
                ),
            )
        )
        .filter(answers__gt=0)
        .order_by("order", "name_fr")
    )
    return [PortalCategory(category, category.answers) for category in categories]


def portal_category(*, code: str) -> ServiceCategory | None:
    return ServiceCategory.objects.filter(code=code).first()


def portal_answers_in(*, category: ServiceCategory) -> list[FaqArticle]:
    """The public answers of `category`, by question (in French: the bank's order)."""
    return list(
        FaqArticle.objects.filter(_public(), category=category)
        .defer("search_vector", "question_vector")
        .order_by("question_fr")
    )


# The most read answers change slowly: counted again at most this often.
POPULAR_CACHE_SECONDS = 600


def portal_popular_answers(*, today: date, limit: int = 6) -> list[FaqArticle]:
    """The public answers read most over the last PORTAL_POPULAR_DAYS days, most read first,
    then (a town whose answers few read yet) the others by question. Two queries at most: the
    readings of the period are summed first, so the bank's size does not matter, and kept
    POPULAR_CACHE_SECONDS in the shared cache (per town: the cache's keys hold the schema), as
    every visit to the home page asks for them."""
    key = f"portail-populaires:{today.isoformat()}:{limit}"
    top: list[int] | None = cache.get(key)
    if top is None:
        top = list(
            FaqConsultation.objects.filter(
                day__gt=today - timedelta(days=PORTAL_POPULAR_DAYS),
                article__in=FaqArticle.objects.filter(_public()),
            )
            .values("article")
            .annotate(total=Sum("count"))
            .order_by("-total", "article__question_fr", "article")
            .values_list("article", flat=True)[:limit]
        )
        cache.set(key, top, POPULAR_CACHE_SECONDS)
    answers = FaqArticle.objects.filter(_public()).defer("search_vector", "question_vector")
    read = {article.pk: article for article in answers.filter(pk__in=top)} if top else {}
    chosen = [read[pk] for pk in top if pk in read]
    if len(chosen) < limit:
        chosen += answers.exclude(pk__in=top).order_by("question_fr", "pk")[: limit - len(chosen)]
    return chosen


def portal_answer(*, pk: int) -> FaqArticle | None:
    """The public, published answer `pk`, with its category and its related service types
    (public ones: what a reader may report); None for anything else."""
    return (
        FaqArticle.objects.filter(_public(), pk=pk)
        .defer("search_vector", "question_vector")
        .select_related("category")
        .first()
    )


def portal_search(*, query: str, language: str, limit: int = 20) -> list[FaqHit]:
    """The public answers matching `query`, best first (the information bank's search)."""
    if not query.strip():
        return []
    return faq_search(query=query, audience=FaqAudience.PUBLIC, language=language, limit=limit)


def portal_tracked_request(*, number: str, token: str) -> ServiceRequest | None:
    """The request numbered `number` when `token` is its tracking token, else None (a wrong
    token and an unknown number look the same). The token is compared in constant time."""
    number, token = number.strip().upper(), token.strip()
    if not number or not token:
        return None
    found = (
        ServiceRequest.objects.filter(number=number)
        .select_related("service_type", "duplicate_of")
        .first()
    )
    if found is None or not secrets.compare_digest(found.tracking_token, token):
        return None
    return found


def portal_request_events(*, service_request: ServiceRequest) -> list[RequestEvent]:
    """What the citizen may read of the request's timeline: its creation, status changes and
    the town's public replies, oldest first."""
    return list(
        RequestEvent.objects.filter(
            request=service_request,
            visibility=Visibility.PUBLIC,
            kind__in=[EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.PUBLIC_REPLY],
        ).order_by("created_at", "id")
    )


@dataclass(frozen=True)
class ReportGroup:
    """A category of the catalog and the public types one may report in it."""

    category: ServiceCategory | None
    service_types: list[ServiceType]


def portal_report_types(*, query: str = "") -> list[ReportGroup]:
    """The active public service types a citizen may report (not the information calls), by
    category in the catalog's order; with `query`, those whose name (either language) or code
    holds it, accents and case folded. One query."""
    types = (
        ServiceType.objects.filter(is_active=True, is_public=True)
        .exclude(kind=ServiceKind.INFORMATION)
        .select_related("category")
        .order_by("category__order", "category__name_fr", "name_fr", "code")
    )
    words = fold_text(query).split()
    groups: dict[int | None, ReportGroup] = {}
    for service_type in types:
        names = fold_text(f"{service_type.name_fr} {service_type.name_en} {service_type.code}")
        if any(word not in names for word in words):
            continue
        key = service_type.category_id
        if key not in groups:
            groups[key] = ReportGroup(service_type.category, [])
        groups[key].service_types.append(service_type)
    return list(groups.values())


def portal_report_type(*, code: str) -> ServiceType | None:
    """The public type `code` a citizen may report, with its questions; None otherwise."""
    service_type = service_type_for_intake(viewer=Viewer(PUBLIC), code=code)
    if service_type is None or service_type.kind == ServiceKind.INFORMATION:
        return None
    return service_type


def portal_satisfaction(*, service_request: ServiceRequest) -> SatisfactionResponse | None:
    """The survey answer given for the request, if any."""
    return SatisfactionResponse.objects.filter(request=service_request).first()


ACCOUNT_REQUESTS = 50


def portal_requests_of(*, citizen: Citizen) -> list[ServiceRequest]:
    """The citizen's requests, newest first (ACCOUNT_REQUESTS at most), with their type."""
    return list(
        ServiceRequest.objects.filter(citizen=citizen)
        .select_related("service_type")
        .only(
            "number",
            "status",
            "created_at",
            "tracking_token",
            "service_type__name_fr",
            "service_type__name_en",
        )
        .order_by("-created_at", "-id")[:ACCOUNT_REQUESTS]
    )


def portal_preferences_of(*, citizen: Citizen) -> dict[str, str]:
    """The channel the citizen chose for each topic (a ConsentPurpose): "email", "sms" or
    "none"; a topic never chosen is "email" for the follow-up of their requests (the reason
    they gave an address), "none" for the others."""
    chosen = {
        consent.purpose: (consent.channel or "email") if consent.granted else "none"
        for consent in Consent.objects.filter(citizen=citizen)
        .order_by("purpose", "-recorded_at", "-id")
        .distinct("purpose")
    }
    return {
        purpose: chosen.get(
            purpose, "email" if purpose == ConsentPurpose.REQUEST_FOLLOW_UP else "none"
        )
        for purpose in ConsentPurpose.values
    }


def portal_consents_of(*, citizen: Citizen) -> list[Consent]:
    """The history of the citizen's consents, newest first."""
    return list(Consent.objects.filter(citizen=citizen).order_by("-recorded_at", "-id"))


# Before a problem is reported, the open requests of its type this close are offered to follow.
PORTAL_NEARBY_M = 150
PORTAL_NEARBY_SHOWN = 5


def portal_nearby_requests(
    *, service_type: ServiceType, latitude: object, longitude: object, now: datetime
) -> list[DuplicateCandidate]:
    """The open requests of `service_type` within PORTAL_NEARBY_M of the point, nearest first
    (PORTAL_NEARBY_SHOWN at most); none for a missing or unreadable point."""
    if latitude in (None, "") or longitude in (None, ""):
        return []
    try:
        point = (
            coordinate_parse(latitude, field="latitude"),
            coordinate_parse(longitude, field="longitude"),
        )
    except CrmError:
        return []
    return request_duplicate_candidates(
        service_type=service_type,
        latitude=point[0],
        longitude=point[1],
        now=now,
        radius_m=PORTAL_NEARBY_M,
    )[:PORTAL_NEARBY_SHOWN]


def portal_followed_of(*, citizen: Citizen) -> list[RequestSubscription]:
    """The requests the citizen follows (reported by someone else), newest first, each as its
    subscription (whose token makes the link to stop following it)."""
    return list(
        RequestSubscription.objects.filter(citizen=citizen)
        .select_related("request__service_type")
        .only(
            "token",
            "request__number",
            "request__status",
            "request__created_at",
            "request__address",
            "request__service_type__name_fr",
            "request__service_type__name_en",
        )
        .order_by("-request__created_at", "-id")[:ACCOUNT_REQUESTS]
    )


def portal_subscription(*, token: str) -> RequestSubscription | None:
    """The follow whose "stop following" link holds `token`, or None."""
    token = token.strip()
    if not token:
        return None
    return (
        RequestSubscription.objects.filter(token=token)
        .select_related("request__service_type")
        .first()
    )
