"""Writes of the citizen portal: an answer's reading counted, a reader's "did this help?", the
satisfaction survey of a finished request."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    FaqArticle,
    FaqFeedback,
    RequestStatus,
    SatisfactionResponse,
    ServiceRequest,
)

__all__ = [
    "SURVEY_STATUSES",
    "faq_consultation_record",
    "faq_feedback_record",
    "satisfaction_record",
]


def faq_consultation_record(*, article: FaqArticle, day: date) -> None:
    """Count one reading of `article` on `day`: one upsert, safe under concurrent readers (two
    first readings of the day never make two rows, nor lose one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_faqconsultation (article_id, day, count) VALUES (%s, %s, 1) "
            "ON CONFLICT (article_id, day) DO UPDATE SET count = crm_faqconsultation.count + 1",
            [article.pk, day],
        )


def faq_feedback_record(*, article: FaqArticle, helpful: bool, language: str) -> FaqFeedback:
    """Record a reader's yes or no on `article`; nothing about the reader."""
    with transaction.atomic():
        return FaqFeedback.objects.create(
            article=article, helpful=helpful, language="en" if language == "en" else "fr"
        )


SURVEY_STATUSES = (RequestStatus.RESOLVED, RequestStatus.CLOSED)
COMMENT_MAX = 2000


def satisfaction_record(
    *, service_request: ServiceRequest, score: int, comment: str, language: str
) -> SatisfactionResponse:
    """The citizen's answer to the survey of their request, once it is resolved or closed.
    Raises CrmError `invalid_score` (not 1 to 5), `description_too_long` (a comment over
    COMMENT_MAX characters) or `survey_not_open` (not finished, or answered already: one answer
    per request, whoever holds the link)."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise CrmError(
            CrmErrorCode.INVALID_SCORE, _("Choisissez une note de 1 à 5."), field="score"
        )
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise CrmError(
            CrmErrorCode.DESCRIPTION_TOO_LONG,
            _("Le commentaire dépasse {limit} caractères.").format(limit=COMMENT_MAX),
            field="comment",
        )
    if service_request.status not in SURVEY_STATUSES:
        raise CrmError(
            CrmErrorCode.SURVEY_NOT_OPEN,
            _("Votre avis sera demandé quand la demande sera résolue."),
            status=409,
        )
    with transaction.atomic():
        response, created = SatisfactionResponse.objects.get_or_create(
            request=service_request,
            defaults={
                "score": score,
                "comment": comment,
                "language": "en" if language == "en" else "fr",
            },
        )
    if not created:
        raise CrmError(
            CrmErrorCode.SURVEY_NOT_OPEN,
            _("Un avis a déjà été donné pour cette demande. Merci!"),
            status=409,
        )
    return response
