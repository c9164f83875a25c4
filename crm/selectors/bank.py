"""Reads of the staff workspace's information bank: browsing by category, an article, its
versions, and the articles due for review. Every staff role reads the bank (articles for
agents included); its editors also see drafts and archived articles (`Viewer.bank_statuses`).
Its search is `crm.search.faq_search`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.diffs import DiffPart, word_diff
from crm.models import (
    Department,
    FaqArticle,
    FaqArticleVersion,
    ServiceCategory,
    ServiceType,
)
from crm.roles import Viewer
from crm.search import FaqHit, faq_search

__all__ = [
    "REVIEW_SOON_DAYS",
    "BankCategory",
    "VersionChange",
    "bank_article",
    "bank_article_versions",
    "bank_articles",
    "bank_articles_to_review",
    "bank_categories",
    "bank_search",
    "bank_version_changes",
    "department_choices",
    "faq_categories",
    "faq_service_types",
]

# An article whose review date falls within this many days is listed "à réviser" already.
REVIEW_SOON_DAYS = 30


def _visible(viewer: Viewer) -> QuerySet[FaqArticle]:
    return FaqArticle.objects.filter(status__in=viewer.bank_statuses).defer(
        "search_vector", "question_vector"
    )


@dataclass(frozen=True)
class BankCategory:
    """A category of the bank and how many articles `viewer` finds in it (`pk` None: the
    articles without a category)."""

    pk: int | None
    name: str
    count: int


def bank_categories(*, viewer: Viewer) -> list[BankCategory]:
    """The categories that hold articles `viewer` reads, in the catalog's order. One query."""
    counts = {
        row["category"]: row["n"]
        for row in _visible(viewer).values("category").annotate(n=Count("pk")).order_by()
    }
    categories = [
        BankCategory(category.pk, category.localized("name"), counts[category.pk])
        for category in ServiceCategory.objects.filter(pk__in=[pk for pk in counts if pk])
    ]
    if counts.get(None):
        categories.append(BankCategory(None, "", counts[None]))
    return categories


def bank_articles(*, viewer: Viewer, category: int | None = None) -> QuerySet[FaqArticle]:
    """The articles `viewer` reads, of one category (`category` 0: those without one), with
    their category and department: one query whatever their number."""
    articles = _visible(viewer).select_related("category", "owner_department")
    if category == 0:
        articles = articles.filter(category__isnull=True)
    elif category is not None:
        articles = articles.filter(category_id=category)
    return articles.order_by("category__order", "category__name_fr", "question_fr")


def bank_search(*, viewer: Viewer, query: str, language: str, limit: int = 20) -> list[FaqHit]:
    """The bank's full-text search as `viewer` may use it: agents' articles included."""
    return faq_search(
        query=query,
        audience=viewer.faq_audience,
        language=language,
        statuses=viewer.bank_statuses,
        limit=limit,
    )


def bank_article(*, viewer: Viewer, pk: int) -> FaqArticle | None:
    """One article `viewer` may read, with its category, department, author and linked types."""
    return (
        _visible(viewer)
        .select_related("category", "owner_department", "updated_by")
        .prefetch_related("service_types")
        .filter(pk=pk)
        .first()
    )


def bank_article_versions(*, article: FaqArticle) -> list[FaqArticleVersion]:
    """Every version of `article`, newest first, with who made it. One query."""
    return list(
        FaqArticleVersion.objects.filter(article=article)
        .select_related("edited_by", "category", "owner_department")
        .order_by("-version")
    )


def bank_articles_to_review(
    *, viewer: Viewer, today: date, within_days: int = REVIEW_SOON_DAYS
) -> QuerySet[FaqArticle]:
    """Articles (not archived) whose review date is past or within `within_days` days, the
    most overdue first. One query."""
    return (
        _visible(viewer)
        .exclude(status="archived")
        .filter(review_on__lte=today + timedelta(days=within_days))
        .select_related("category", "owner_department")
        .order_by("review_on", "question_fr")
    )


def faq_categories() -> QuerySet[ServiceCategory]:
    """The categories an article may be filed under (choices of the editing form)."""
    return ServiceCategory.objects.order_by("order", "name_fr")


def department_choices() -> QuerySet[Department]:
    """The departments that may own an article, handle a service type or receive a routed
    request (choices of the workspace's forms)."""
    return Department.objects.order_by("name_fr")


def faq_service_types() -> QuerySet[ServiceType]:
    """The service types an article may be linked to."""
    return ServiceType.objects.order_by("name_fr")


# The texts of a version, compared word by word, and its other fields, compared as values.
_TEXTS = (
    ("question_fr", gettext_lazy("Question (français)")),
    ("answer_fr", gettext_lazy("Réponse (français)")),
    ("question_en", gettext_lazy("Question (anglais)")),
    ("answer_en", gettext_lazy("Réponse (anglais)")),
)


@dataclass(frozen=True)
class VersionChange:
    """One field that differs between two versions: `parts` for a text (word by word),
    `before` and `after` for a value."""

    label: str
    parts: list[DiffPart] | None = None
    before: str = ""
    after: str = ""


def _values(version: FaqArticleVersion) -> dict[str, tuple[str, str]]:
    empty = _("(aucun)")
    return {
        "status": (_("Statut"), version.get_status_display()),
        "audience": (_("Public cible"), version.get_audience_display()),
        "category": (
            _("Catégorie"),
            version.category.localized("name") if version.category else empty,
        ),
        "owner_department": (
            _("Service responsable"),
            version.owner_department.localized("name") if version.owner_department else empty,
        ),
        "review_on": (
            _("À réviser le"),
            version.review_on.isoformat() if version.review_on else empty,
        ),
        "service_types": (
            _("Types de requêtes liés"),
            ", ".join(version.service_type_codes) or empty,
        ),
    }


def bank_version_changes(
    *, before: FaqArticleVersion, after: FaqArticleVersion
) -> list[VersionChange]:
    """What changed from version `before` to version `after`, field by field (no query when
    both come from `bank_article_versions`)."""
    changes = [
        VersionChange(
            label=str(label), parts=word_diff(getattr(before, name), getattr(after, name))
        )
        for name, label in _TEXTS
        if getattr(before, name) != getattr(after, name)
    ]
    old, new = _values(before), _values(after)
    changes += [
        VersionChange(label=label, before=value, after=new[name][1])
        for name, (label, value) in old.items()
        if value != new[name][1]
    ]
    return changes
