"""The 311 desk's forms. They parse; the services validate (as for the REST API and Open311),
and their refusals come back next to the field they name (`place_error`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.admin_privacy import ACCESS_PURPOSES, ViewPurposeForm
from crm.desk.once import SubmissionField
from crm.errors import CrmError
from crm.models import AttributeDatatype, Channel, FaqArticle, ServiceAttribute, ServiceType

# What a caller reaches the desk by: the channels a person uses, not the machines'.
DESK_CHANNELS = [
    (value, label)
    for value, label in Channel.choices
    if value in {Channel.PHONE, Channel.COUNTER, Channel.EMAIL, Channel.WEB}
]
# The service's name for an input, when the form calls it otherwise.
SERVICE_FIELDS = {
    "citizen_id": "citizen",
    "location": "address",
    "faq_articles": "article",
}


def attribute_field_name(code: str) -> str:
    return f"attribute_{code}"


def place_error(form: forms.Form, error: CrmError) -> None:
    """Put a service's refusal next to the field it names (`attribute[code]` is the question
    `code`), or at the top of the form (no such field, or a hidden one)."""
    field = error.field or ""
    if field.startswith("attribute[") and field.endswith("]"):
        field = attribute_field_name(field[len("attribute[") : -1])
    field = SERVICE_FIELDS.get(field, field)
    shown = field in form.fields and not form.fields[field].widget.is_hidden
    form.add_error(field if shown else None, error.message)


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


class RequestForm(forms.Form):
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
        self.chosen_type = service_type
        self.question_names: list[str] = []
        for attribute in service_type.attributes.all() if service_type else []:
            name = attribute_field_name(attribute.code)
            self.fields[name] = _question_field(attribute)
            self.question_names.append(name)

    def questions(self) -> list[forms.BoundField]:
        return [self[name] for name in self.question_names]

    def answers(self) -> dict[str, object]:
        """The answers as the API receives them, keyed by the questions' codes."""
        answers: dict[str, object] = {}
        for attribute in self.chosen_type.attributes.all() if self.chosen_type else []:
            value = self.cleaned_data.get(attribute_field_name(attribute.code))
            if isinstance(value, datetime):
                value = value.isoformat()
            if value not in (None, "", []):
                answers[attribute.code] = value
        return answers


class _OfferedChoice(forms.ChoiceField):
    """Choices offered, but whether an answer is one of them is the service's to say."""

    def valid_value(self, value: str) -> bool:
        return True


class _OfferedChoices(forms.MultipleChoiceField):
    def valid_value(self, value: str) -> bool:
        return True


def _question_field(attribute: ServiceAttribute) -> forms.Field:
    """A field for the question, that only parses: whether an answer is required or valid is
    the service's to say (the same rule for every interface)."""
    label = attribute.localized("label")
    datatype = attribute.datatype
    choices = [(value.key, value.localized("name")) for value in attribute.values.all()]
    field: forms.Field
    if datatype == AttributeDatatype.TEXT:
        field = forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 2}))
    elif datatype == AttributeDatatype.NUMBER:
        field = forms.CharField(label=label, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    elif datatype == AttributeDatatype.DATETIME:
        field = forms.DateTimeField(
            label=label,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        )
    elif datatype == AttributeDatatype.SINGLE:
        field = _OfferedChoice(label=label, choices=choices, widget=forms.RadioSelect)
    elif datatype == AttributeDatatype.MULTI:
        field = _OfferedChoices(label=label, choices=choices, widget=forms.CheckboxSelectMultiple)
    else:
        field = forms.CharField(label=label, max_length=255)
    field.required = False
    if attribute.required:
        field.help_text = _("Obligatoire.")
        if not attribute.is_list:  # a group of boxes says it in its legend's help
            field.widget.attrs["aria-required"] = "true"
    return field
