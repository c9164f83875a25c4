"""Writes of the citizen portal's answers: a reading counted, a reader's "did this help?"."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from crm.models import FaqArticle, FaqFeedback

__all__ = ["faq_consultation_record", "faq_feedback_record"]


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
