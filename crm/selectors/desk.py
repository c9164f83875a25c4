"""Reads of the 311 desk: finding the caller, their record, the articles an agent answered
with, and the agent's own first-contact rate today."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from crm.models import (
    Citizen,
    FaqArticle,
    FaqAudience,
    FaqStatus,
    Interaction,
    ServiceRequest,
    fold_text,
)
from crm.roles import Viewer
from crm.selectors.citizens import citizen_for
from crm.selectors.reports import ResolutionRate

__all__ = [
    "DESK_SEARCH_MIN_LENGTH",
    "CitizenRecord",
    "agent_first_contact_today",
    "desk_answer_articles",
    "desk_citizen_record",
    "desk_citizen_search",
]

# Fewer characters match half the town: the desk waits for a second one.
DESK_SEARCH_MIN_LENGTH = 2
RECORD_ROWS = 20


def desk_citizen_search(*, viewer: Viewer, query: str, limit: int = 20) -> list[Citizen]:
    """Active citizens matching every word of `query` in their name, e-mail, phone or address,
    case and accents folded (`Hélène` finds `helene`); a word of digits also matches the phone
    digits (`450 555-1234`). Nothing for a role that may not read personal data or a query
    shorter than DESK_SEARCH_MIN_LENGTH. One query."""
    text = query.strip()
    if not viewer.sees_personal_data or len(text) < DESK_SEARCH_MIN_LENGTH:
        return []
    citizens = Citizen.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    ordered = ("last_name", "first_name", "pk")
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and not re.search(r"[^\d\s\-().+]", text):
        # The whole query is a phone number, however it was typed (`450 555-1234`).
        return list(citizens.filter(phone__contains=digits).order_by(*ordered)[:limit])
    match = Q()
    for word in fold_text(text).split():
        found = Q(search_text__contains=word)
        if word.isdigit() and len(word) >= 3:
            found |= Q(phone__contains=word)
        match &= found
    return list(citizens.filter(match).order_by(*ordered)[:limit])


@dataclass(frozen=True)
class CitizenRecord:
    citizen: Citizen
    requests: list[ServiceRequest]
    interactions: list[Interaction]


def desk_citizen_record(*, viewer: Viewer, pk: int) -> CitizenRecord:
    """The citizen `pk` with their latest requests and interactions (RECORD_ROWS of each),
    for a role that may read personal data. Three queries. Raises CrmError `not_found` as
    citizen_for does."""
    citizen = citizen_for(viewer=viewer, pk=pk)
    requests = list(
        ServiceRequest.objects.filter(citizen=citizen)
        .select_related("service_type", "department")
        .order_by("-created_at")[:RECORD_ROWS]
    )
    interactions = list(
        Interaction.objects.filter(citizen=citizen)
        .select_related("agent", "request")
        .order_by("-created_at")[:RECORD_ROWS]
    )
    return CitizenRecord(citizen, requests, interactions)


def desk_answer_articles(*, viewer: Viewer, ids: list[int]) -> list[FaqArticle]:
    """The published articles among `ids` that `viewer` may answer with (staff also the
    agents' own), in the order given, with their linked service types. Two queries, none
    without ids."""
    if not ids:
        return []
    articles = FaqArticle.objects.filter(pk__in=ids, status=FaqStatus.PUBLISHED).defer(
        "search_vector", "question_vector"
    )
    if viewer.faq_audience == FaqAudience.PUBLIC:
        articles = articles.filter(audience=FaqAudience.PUBLIC)
    by_id = {article.pk: article for article in articles.prefetch_related("service_types")}
    return [by_id[pk] for pk in dict.fromkeys(ids) if pk in by_id]


def agent_first_contact_today(*, viewer: Viewer, now: datetime | None = None) -> ResolutionRate:
    """`viewer`'s own interactions since midnight in the town's time, and how many were
    resolved at first contact. One query."""
    now = now or timezone.now()
    midnight = timezone.make_aware(
        datetime.combine(timezone.localtime(now).date(), time.min), timezone.get_current_timezone()
    )
    totals = Interaction.objects.filter(
        agent=viewer.user, created_at__gte=midnight, created_at__lt=midnight + timedelta(days=1)
    ).aggregate(total=Count("id"), resolved=Count("id", filter=Q(resolved_at_first_contact=True)))
    return ResolutionRate(
        key="today", interactions=totals["total"], resolved_first_contact=totals["resolved"]
    )
