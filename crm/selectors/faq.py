"""Reads of the information bank (its search is `crm.search`)."""

from __future__ import annotations

from crm.models import FaqArticle

__all__ = ["faq_article_by_pk", "faq_articles_by_ids"]


def faq_articles_by_ids(*, ids: list[int]) -> list[FaqArticle]:
    return list(FaqArticle.objects.filter(pk__in=ids)) if ids else []


def faq_article_by_pk(*, pk: int) -> FaqArticle:
    return FaqArticle.objects.get(pk=pk)
