"""The 311 desk's forms. They parse; the services validate (as for the REST API and Open311),
and their refusals come back next to the field they name (`place_error`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.admin_privacy import ACCESS_PURPOSES, ViewPurposeForm
from crm.desk.once import SubmissionField
from crm.intake_forms import QuestionsMixin
from crm.models import Channel, FaqArticle, ServiceType

# What a caller reaches the desk by: the channels a person uses, not the machines'.
DESK_CHANNELS = [
    (value, label)
    for value, label in Channel.choices
    if value in {Channel.PHONE, Channel.COUNTER, Channel.EMAIL, Channel.WEB}
]


class CitizenSearchForm(forms.Form):
    appelant = forms.CharField(
        label=_("Trouver l'appelant"),
        help_text=_("Nom, téléphone, courriel ou adresse ; accents et majuscules sans importance."),
        max_length=100,
        required=False,
    )


class BankSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Question de l'appelant"),
        help_text=_("Les articles réservés au personnel sont inclus."),
        max_length=200,
        required=False,
    )


class DeskPurposeForm(ViewPurposeForm):
    """The admin's purpose form (the same purposes, the same 30 minutes), on the desk."""

    submission = SubmissionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, choices=ACCESS_PURPOSES, **kwargs)


class InformationCallForm(forms.Form):
    """A call answered from the bank. The articles offered are those the agent chose."""

    article = forms.TypedMultipleChoiceField(
        label=_("Articles utilisés"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    channel = forms.ChoiceField(label=_("Canal"), choices=DESK_CHANNELS, initial=Channel.PHONE)
    summary = forms.CharField(
        label=_("Résumé de l'appel"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    citizen = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submission = SubmissionField()

    def __init__(self, *args: Any, articles: list[FaqArticle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["article"]
        assert isinstance(field, forms.TypedMultipleChoiceField)  # noqa: S101
        field.choices = [(article.pk, str(article)) for article in articles]


class RequestForm(QuestionsMixin, forms.Form):
    """A request taken on the phone: its type, the type's questions, where, who."""

    service_type = forms.CharField(
        label=_("Type de requête"),
        help_text=_("Tapez quelques lettres du nom ou du code, puis choisissez dans la liste."),
        max_length=60,
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    address = forms.CharField(
        label=_("Adresse"),
        help_text=_("Ou cliquez sur la carte, ou donnez la latitude et la longitude."),
        max_length=300,
        required=False,
    )
    latitude = forms.CharField(label=_("Latitude"), max_length=30, required=False)
    longitude = forms.CharField(label=_("Longitude"), max_length=30, required=False)
    channel = forms.ChoiceField(label=_("Canal"), choices=DESK_CHANNELS, initial=Channel.PHONE)
    citizen = forms.IntegerField(widget=forms.HiddenInput, required=False)
    first_name = forms.CharField(label=_("Prénom"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=100, required=False)
    phone = forms.CharField(label=_("Téléphone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Courriel"), required=False)
    submission = SubmissionField()

    def __init__(self, *args: Any, service_type: ServiceType | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_questions(service_type)
