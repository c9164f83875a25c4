"""Writes of the information bank: articles and their version history."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    FaqArticle,
    FaqArticleVersion,
    FaqStatus,
    ServiceType,
)
from crm.services.common import author_of
from tenants.accounts.models import User

__all__ = [
    "FAQ_ANSWER_MAX",
    "FAQ_FIELDS",
    "faq_article_create",
    "faq_article_update",
    "faq_article_validate",
]

FAQ_ANSWER_MAX = 20_000


FAQ_FIELDS = (
    "question_fr",
    "answer_fr",
    "question_en",
    "answer_en",
    "category",
    "audience",
    "status",
    "owner_department",
    "review_on",
)


def _snapshot(article: FaqArticle, actor: User | None) -> FaqArticleVersion:
    return FaqArticleVersion.objects.create(
        article=article,
        version=article.version,
        question_fr=article.question_fr,
        answer_fr=article.answer_fr,
        question_en=article.question_en,
        answer_en=article.answer_en,
        audience=article.audience,
        status=article.status,
        category_id=article.category_id,
        owner_department_id=article.owner_department_id,
        review_on=article.review_on,
        service_type_codes=sorted(article.service_types.values_list("code", flat=True)),
        edited_by=author_of(actor),
    )


def faq_article_validate(article: FaqArticle) -> FaqArticle:
    """Raises CrmError naming the field when the article cannot be saved as it is."""
    try:
        article.full_clean(exclude=["uuid", "search_vector", "question_vector"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CrmError(CrmErrorCode.INVALID_ARTICLE, messages[0], field=field) from error
    for field in ("answer_fr", "answer_en"):
        # An answer is read at the phone; its search vector must also stay under
        # PostgreSQL's 1 MB, which a megabyte of text overflows.
        if len(getattr(article, field)) > FAQ_ANSWER_MAX:
            raise CrmError(
                CrmErrorCode.ANSWER_TOO_LONG,
                _("La réponse dépasse {limit} caractères.").format(limit=FAQ_ANSWER_MAX),
                field=field,
            )
    if article.status == FaqStatus.PUBLISHED and not (article.question_en and article.answer_en):
        raise CrmError(
            CrmErrorCode.ENGLISH_MISSING,
            _("Un article publié doit avoir sa question et sa réponse en anglais."),
            field="question_en",
        )
    return article


def faq_article_create(
    *,
    actor: User | None,
    service_types: Iterable[ServiceType] = (),
    source_uuid: str | None = None,
    **fields: object,
) -> FaqArticle:
    unknown = set(fields) - set(FAQ_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    article = faq_article_validate(FaqArticle(source_uuid=source_uuid, **fields))
    with transaction.atomic():
        article.updated_by = author_of(actor)
        article.save()
        article.service_types.set(list(service_types))
        _snapshot(article, actor)
    return article


def faq_article_update(
    *,
    actor: User | None,
    article: FaqArticle,
    service_types: Iterable[ServiceType] | None = None,
    **fields: object,
) -> FaqArticle:
    """Edit an article; the new text becomes a new version, every version is kept."""
    unknown = set(fields) - set(FAQ_FIELDS)
    if unknown:
        raise CrmError(
            CrmErrorCode.UNKNOWN_FIELD,
            _("Champ inconnu : {field}.").format(field=sorted(unknown)[0]),
        )
    with transaction.atomic():
        current = FaqArticle.objects.select_for_update().get(pk=article.pk)
        for name, value in fields.items():
            setattr(current, name, value)
        faq_article_validate(current)
        current.version += 1
        current.updated_by = author_of(actor)
        current.save()
        if service_types is not None:
            current.service_types.set(list(service_types))
        _snapshot(current, actor)
    return FaqArticle.objects.get(pk=current.pk)
