"""Writes of interactions: every contact with a citizen, and answers at first contact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import selectors
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Channel,
    Citizen,
    Department,
    FaqArticle,
    Interaction,
    ServiceRequest,
    ServiceType,
)
from crm.roles import Viewer
from crm.services.common import author_of, citizen_standing_for
from crm.services.requests import request_create
from tenants.accounts.models import User

__all__ = [
    "information_call_answer",
    "interaction_log",
    "interaction_record",
]


def interaction_record(
    *,
    actor: User | None,
    channel: str,
    summary: str,
    citizen: Citizen | None = None,
    service_request: ServiceRequest | None = None,
    faq_articles: Iterable[FaqArticle] = (),
    department: Department | None = None,
    duration_seconds: int = 0,
    resolved_at_first_contact: bool = False,
    now: datetime | None = None,
) -> Interaction:
    summary = (summary or "").strip()
    if channel not in Channel.values:
        raise CrmError(
            CrmErrorCode.INVALID_CHANNEL,
            _("Canal inconnu : {channel}.").format(channel=channel),
            field="channel",
        )
    if not summary:
        raise CrmError(CrmErrorCode.SUMMARY_REQUIRED, _("Résumez l'échange."), field="summary")
    if duration_seconds < 0:
        raise CrmError(
            CrmErrorCode.INVALID_DURATION,
            _("La durée ne peut pas être négative."),
            field="duration",
        )
    with transaction.atomic():
        citizen = citizen_standing_for(citizen)
        interaction = Interaction.objects.create(
            channel=channel,
            summary=summary[:2000],
            citizen=citizen,
            request=service_request,
            department=department or (service_request.department if service_request else None),
            agent=author_of(actor),
            duration_seconds=duration_seconds,
            resolved_at_first_contact=resolved_at_first_contact,
            created_at=now or timezone.now(),
        )
        interaction.faq_articles.set(list(faq_articles))
    return interaction


def information_call_answer(
    *,
    actor: User | None,
    channel: str,
    summary: str,
    faq_articles: Iterable[FaqArticle],
    citizen: Citizen | None = None,
    service_type: ServiceType | None = None,
    duration_seconds: int = 0,
    now: datetime | None = None,
) -> Interaction:
    """A question answered from the information bank at first contact.

    Always an interaction resolved at first contact; when the town counts them as requests
    and an information service type is given, also a request closed at intake.
    """
    with transaction.atomic():
        service_request = None
        if service_type is not None and selectors.crm_settings().close_information_at_intake:
            service_request = request_create(
                actor=actor,
                service_type=service_type,
                channel=channel,
                description=summary,
                citizen=citizen,
                close_at_intake=True,
                now=now,
            )
        articles = list(faq_articles)
        return interaction_record(
            actor=actor,
            channel=channel,
            summary=summary,
            citizen=citizen,
            service_request=service_request,
            faq_articles=articles,
            department=service_type.department if service_type else None,
            duration_seconds=duration_seconds,
            resolved_at_first_contact=True,
            now=now,
        )


def interaction_log(
    *,
    viewer: Viewer,
    channel: str,
    summary: str,
    citizen_id: int | None = None,
    request_number: str = "",
    faq_article_ids: Iterable[int] = (),
    duration_seconds: int = 0,
    resolved_at_first_contact: bool = False,
) -> Interaction:
    """Record a contact `viewer` had, naming the citizen, the request (one `viewer` may read)
    and the articles used by their ids; the interaction counts for `viewer`'s department.
    Raises CrmError `not_found` for an unknown citizen or request, and as interaction_record
    does."""
    citizen = selectors.citizen_for(viewer=viewer, pk=citizen_id) if citizen_id else None
    service_request = (
        selectors.request_for(viewer=viewer, number=request_number) if request_number else None
    )
    articles = selectors.faq_articles_by_ids(ids=list(faq_article_ids))
    return interaction_record(
        actor=viewer.user,
        channel=channel,
        summary=summary,
        citizen=citizen,
        service_request=service_request,
        faq_articles=articles,
        department=viewer.department,
        duration_seconds=duration_seconds,
        resolved_at_first_contact=resolved_at_first_contact,
    )
