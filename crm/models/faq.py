"""The information bank: bilingual articles with versions and full-text search."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Func, TextField
from django.utils.translation import gettext_lazy as _

from crm.models.catalog import (
    Bilingual,
    Department,
    Provenance,
    ServiceCategory,
    ServiceType,
    UpstreamTracked,
)

# Accent folding in plain SQL: PostgreSQL's `unaccent` is an extension the embedded server
# lacks, while lower(), replace() and translate() are built in and immutable, so they can feed
# a stored generated column and its GIN index.
_ACCENTED = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿ"
_PLAIN = "aaaaaaceeeeiiiinooooouuuuyy"


class Fold(Func):
    """Lowercase and strip French (and common) accents: `Déneigement` → `deneigement`."""

    template = (
        "translate(replace(replace(lower(%(expressions)s), 'œ', 'oe'), 'æ', 'ae'), "
        f"'{_ACCENTED}', '{_PLAIN}')"
    )
    output_field = TextField()


_FOLD_TABLE = str.maketrans(_ACCENTED, _PLAIN)


def fold_text(text: str) -> str:
    """The Python twin of Fold, for tests, query preparation and highlighting."""
    return text.lower().replace("œ", "oe").replace("æ", "ae").translate(_FOLD_TABLE)


class FaqAudience(models.TextChoices):
    PUBLIC = "public", _("Public")
    AGENTS = "agents", _("Agents seulement")


class FaqStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


class FaqArticle(Bilingual, Provenance, UpstreamTracked):
    question_fr = models.CharField(_("question (français)"), max_length=300)
    answer_fr = models.TextField(_("réponse (français)"))
    question_en = models.CharField(_("question (anglais)"), max_length=300, blank=True)
    answer_en = models.TextField(_("réponse (anglais)"), blank=True)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("catégorie"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="faq_articles",
    )
    service_types = models.ManyToManyField(
        ServiceType, verbose_name=_("types de requêtes liés"), blank=True, related_name="faq"
    )
    audience = models.CharField(
        _("public cible"), max_length=8, choices=FaqAudience.choices, default=FaqAudience.PUBLIC
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=FaqStatus.choices, default=FaqStatus.DRAFT
    )
    owner_department = models.ForeignKey(
        Department,
        verbose_name=_("service responsable"),
        on_delete=models.PROTECT,
        related_name="faq_articles",
    )
    review_on = models.DateField(_("à réviser le"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modifié par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    # Maintained by the database (trigger crm_faq_vectors, migration 0007): questions weighted
    # A and answers B, French text stemmed in French and English in English, accents folded.
    # A row inserted with its vectors (a copy from the host, same text) keeps them, so copying
    # a bank never re-parses it; any change of text recomputes them.
    search_vector = SearchVectorField(null=True, editable=False)
    # Questions alone: short vectors, cheap to rank, searched first (see crm.search).
    question_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("article de la banque d'information")
        verbose_name_plural = _("banque d'information")
        ordering = ["question_fr"]
        indexes = [
            GinIndex(fields=["search_vector"], name="faq_search_idx"),
            GinIndex(fields=["question_vector"], name="faq_question_idx"),
            # The portal's answers by question (its home page, before anyone read any).
            models.Index(
                fields=["question_fr", "id"],
                name="faq_public_by_question_idx",
                condition=models.Q(audience="public", status="published"),
            ),
        ]

    def __str__(self) -> str:
        return self.localized("question")


class FaqArticleVersion(models.Model):
    """A snapshot of an article after each edit: who changed what, and when."""

    article = models.ForeignKey(FaqArticle, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    question_fr = models.CharField(max_length=300)
    answer_fr = models.TextField()
    question_en = models.CharField(max_length=300, blank=True)
    answer_en = models.TextField(blank=True)
    audience = models.CharField(max_length=8, choices=FaqAudience.choices)
    status = models.CharField(max_length=10, choices=FaqStatus.choices)
    category = models.ForeignKey(
        ServiceCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    owner_department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_on = models.DateField(null=True, blank=True)
    service_type_codes = models.JSONField(default=list, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("version d'article")
        verbose_name_plural = _("versions d'articles")
        ordering = ["article", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["article", "version"], name="faq_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}"


class FaqConsultation(models.Model):
    """How many times a public answer was read on the portal, per day: the home page's "most
    consulted" answers. A count, never who read it."""

    article = models.ForeignKey(FaqArticle, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("jour"))
    count = models.PositiveIntegerField(_("consultations"), default=0)

    class Meta:
        verbose_name = _("consultation d'une réponse")
        verbose_name_plural = _("consultations des réponses")
        constraints = [
            models.UniqueConstraint(fields=["article", "day"], name="faq_consultation_unique_day")
        ]
        indexes = [models.Index(fields=["day", "article"], name="faq_consultation_day_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.day}: {self.count}"


class FaqFeedback(models.Model):
    """A portal reader's answer to « Cette réponse vous a-t-elle aidé? »: yes or no, in which
    language, and when. Anonymous: nothing about the person is kept."""

    article = models.ForeignKey(FaqArticle, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField(_("utile"))
    language = models.CharField(_("langue"), max_length=2)
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("avis sur une réponse")
        verbose_name_plural = _("avis sur les réponses")

    def __str__(self) -> str:
        return f"{self.article_id}: {'oui' if self.helpful else 'non'}"
