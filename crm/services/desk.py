"""Writes of the 311 desk: a call answered from the information bank, logged in one step."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from crm import selectors
from crm.errors import CrmError, CrmErrorCode
from crm.models import Interaction, ServiceKind
from crm.roles import Viewer
from crm.services.interactions import information_call_answer

__all__ = ["information_call_log"]


def information_call_log(
    *,
    viewer: Viewer,
    channel: str,
    summary: str,
    faq_article_ids: Iterable[int],
    citizen_id: int | None = None,
) -> Interaction:
    """A call `viewer` answered with these articles, resolved at first contact, naming the
    caller when known. When an article is linked to an information service type, the call is
    also counted as a request closed at intake if the town wants it
    (information_call_answer).

    Raises CrmError `article_required` when no published article `viewer` may use is named,
    `not_found` for a citizen `viewer` may not read, and as interaction_record does
    (`summary_required`, `invalid_channel`)."""
    articles = selectors.desk_answer_articles(viewer=viewer, ids=list(faq_article_ids))
    if not articles:
        raise CrmError(
            CrmErrorCode.ARTICLE_REQUIRED,
            _("Choisissez l'article de la banque d'information qui a servi à répondre."),
            field="faq_articles",
        )
    citizen = selectors.citizen_for(viewer=viewer, pk=citizen_id) if citizen_id else None
    information_type = next(
        (
            service_type
            for article in articles
            for service_type in article.service_types.all()
            if service_type.kind == ServiceKind.INFORMATION and service_type.is_active
        ),
        None,
    )
    with transaction.atomic():
        return information_call_answer(
            actor=viewer.user,
            channel=channel,
            summary=summary,
            faq_articles=articles,
            citizen=citizen,
            service_type=information_type,
        )
