"""Writes of the citizen portal: an answer's reading counted, a reader's "did this help?", the
satisfaction survey of a finished request, a citizen's communication preferences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db import connection, transaction
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Citizen,
    Consent,
    ConsentPurpose,
    FaqArticle,
    FaqFeedback,
    RequestStatus,
    SatisfactionResponse,
    ServiceRequest,
)
from crm.services.citizens import consent_record
from tenants.accounts.models import User

__all__ = [
    "CONTACT_CHANNELS",
    "SURVEY_STATUSES",
    "citizen_preferences_set",
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


# How a citizen may be reached on each topic: by e-mail, by text message, or not at all.
CONTACT_CHANNELS = ("email", "sms", "none")


def citizen_preferences_set(
    *, actor: User | None, citizen: Citizen, choices: Mapping[str, str]
) -> list[Consent]:
    """Record the channel `citizen` chooses for each topic (a ConsentPurpose): a consent given
    with its channel, or withdrawn for "none"; a topic gets a new entry when it was never
    recorded or its choice changed (the history keeps the others' dates). Raises CrmError
    `invalid_purpose`, `invalid_channel`, or `invalid_phone` when text messages are chosen
    without a phone number on the record; nothing is recorded then."""
    current = {
        consent.purpose: consent
        for consent in Consent.objects.filter(citizen=citizen)
        .order_by("purpose", "-recorded_at", "-id")
        .distinct("purpose")
    }
    for purpose, channel in choices.items():
        if purpose not in ConsentPurpose.values:
            raise CrmError(
                CrmErrorCode.INVALID_PURPOSE,
                _("Sujet inconnu : {purpose}.").format(purpose=purpose),
                field=purpose,
            )
        if channel not in CONTACT_CHANNELS:
            raise CrmError(
                CrmErrorCode.INVALID_CHANNEL,
                _("Choisissez le courriel, le texto ou aucun avis."),
                field=purpose,
            )
        if channel == "sms" and not citizen.phone:
            raise CrmError(
                CrmErrorCode.INVALID_PHONE,
                _("Ajoutez un numéro de téléphone à vos coordonnées pour recevoir des textos."),
                field=purpose,
            )
    recorded = []
    with transaction.atomic():
        follow_up = choices.get(ConsentPurpose.REQUEST_FOLLOW_UP)
        if follow_up is not None:
            # The record's own switches (the desk's, the API's) follow the citizen's choice.
            citizen.notify_by_email = follow_up == "email"
            citizen.notify_by_sms = follow_up == "sms"
            citizen.save(update_fields=["notify_by_email", "notify_by_sms", "updated_at"])
        for purpose, channel in choices.items():
            before = current.get(purpose)
            was = (before.channel or "email") if before and before.granted else "none"
            if before is not None and was == channel:
                continue
            recorded.append(
                consent_record(
                    actor=actor,
                    citizen=citizen,
                    purpose=purpose,
                    granted=channel != "none",
                    channel="" if channel == "none" else channel,
                )
            )
    return recorded
