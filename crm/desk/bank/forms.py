"""Forms of the information bank: the search, an article's editing, its status and the
comparison of two versions. They parse; `crm.services` validates and writes."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import selectors, services
from crm.desk.once import SubmissionField
from crm.errors import CrmError
from crm.models import FaqArticle, FaqAudience, FaqStatus

# The article's own fields the form edits (its status has its own buttons).
ARTICLE_FIELDS = (
    "question_fr",
    "answer_fr",
    "question_en",
    "answer_en",
    "category",
    "audience",
    "owner_department",
    "review_on",
)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher dans la banque"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    categorie = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ArticleForm(forms.Form):
    question_fr = forms.CharField(label=_("Question (français)"), max_length=300)
    answer_fr = forms.CharField(
        label=_("Réponse (français)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Texte lu au téléphone : phrases courtes, une idée par paragraphe."),
    )
    question_en = forms.CharField(label=_("Question (anglais)"), max_length=300, required=False)
    answer_en = forms.CharField(
        label=_("Réponse (anglais)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text=_("Obligatoire pour publier l'article."),
    )
    category = forms.ModelChoiceField(
        label=_("Catégorie"), queryset=selectors.faq_categories(), required=False
    )
    service_types = forms.ModelMultipleChoiceField(
        label=_("Types de requêtes liés"),
        queryset=selectors.faq_service_types(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    audience = forms.ChoiceField(
        label=_("Public cible"), choices=FaqAudience.choices, initial=FaqAudience.PUBLIC
    )
    owner_department = forms.ModelChoiceField(
        label=_("Service responsable"), queryset=selectors.department_choices()
    )
    review_on = forms.DateField(
        label=_("À réviser le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("L'article paraît dans la liste « À réviser » 30 jours avant."),
    )
    submission = SubmissionField()

    def __init__(self, *args: Any, article: FaqArticle | None = None, **kwargs: Any) -> None:
        self.article = article
        if article is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(article, name) for name in ARTICLE_FIELDS} | {
                "service_types": list(article.service_types.all())
            }
        super().__init__(*args, **kwargs)

    @property
    def status(self) -> str:
        return self.article.status if self.article is not None else FaqStatus.DRAFT

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The services' own rules (English text of a published article, answer length), so
        # that a preview shows the same errors a save would.
        candidate = FaqArticle(
            status=self.status,
            **{name: cleaned.get(name) for name in ARTICLE_FIELDS if name in cleaned},
        )
        if not self.errors:
            try:
                services.faq_article_validate(candidate)
            except CrmError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned

    def article_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ARTICLE_FIELDS}

    def preview(self) -> FaqArticle:
        """The article as it would read once saved (not saved)."""
        return FaqArticle(status=self.status, **self.article_fields())


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=FaqStatus.choices)
    submission = SubmissionField()


class CompareForm(forms.Form):
    """Two versions of an article to compare (`de` the earlier one, `a` the later one)."""

    de = forms.TypedChoiceField(label=_("Comparer la version"), coerce=int)
    a = forms.TypedChoiceField(label=_("avec la version"), coerce=int)

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(number, str(number)) for number in versions]
        cast(forms.ChoiceField, self.fields["de"]).choices = choices
        cast(forms.ChoiceField, self.fields["a"]).choices = choices


class ReviewForm(forms.Form):
    jours = forms.IntegerField(
        label=_("Échéance dans les prochains (jours)"),
        min_value=0,
        max_value=365,
        required=False,
    )
