"""Forms shared by the interfaces that file requests (the staff desk, the citizen portal): a
service type's questions as fields that only parse, a service's refusal placed next to the
field it names, and the location map's settings. Whether an answer is required or valid is
the services' to say, the same rule as for the REST API and Open311."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.errors import CrmError
from crm.models import AttributeDatatype, ServiceAttribute, ServiceType
from crm.services import IntakeContact

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


class QuestionsMixin:
    """Adds the fields of `service_type`'s questions (`attribute_<code>`) to a form."""

    fields: dict[str, forms.Field]

    def add_questions(self, service_type: ServiceType | None) -> None:
        self.chosen_type = service_type
        self.question_names: list[str] = []
        for attribute in service_type.attributes.all() if service_type else []:
            name = attribute_field_name(attribute.code)
            self.fields[name] = question_field(attribute)
            self.question_names.append(name)

    def questions(self) -> list[forms.BoundField]:
        return [self[name] for name in self.question_names]  # type: ignore[index]

    def answers(self) -> dict[str, object]:
        """The answers as the API receives them, keyed by the questions' codes."""
        cleaned: dict[str, Any] = self.cleaned_data  # type: ignore[attr-defined]
        answers: dict[str, object] = {}
        for attribute in self.chosen_type.attributes.all() if self.chosen_type else []:
            value = cleaned.get(attribute_field_name(attribute.code))
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


def question_field(attribute: ServiceAttribute) -> forms.Field:
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


# The tile server's origin, allowed for images on the pages that show the map only.
MAP_POLICY = {
    "img-src": [
        "{0.scheme}://{0.netloc}".format(urlsplit(settings.RELAIS_MAP_TILES_URL)).replace(
            "{s}.", "*."
        )
    ]
}


def map_settings() -> dict[str, object]:
    """What templates/_map.html needs: the tile server, its attribution, the town's centre."""
    center = cast(tuple[float, float], settings.LEAFLET_CONFIG["DEFAULT_CENTER"])
    return {
        "tiles": settings.RELAIS_MAP_TILES_URL,
        "attribution": settings.RELAIS_MAP_ATTRIBUTION,
        "latitude": center[0],
        "longitude": center[1],
        "zoom": settings.LEAFLET_CONFIG["DEFAULT_ZOOM"],
    }


def contact_of(cleaned: dict[str, Any], language: str) -> IntakeContact:
    """The contact details a form took (first_name, last_name, email, phone), for intake."""
    return IntakeContact(
        email=cleaned["email"],
        phone=cleaned["phone"],
        first_name=cleaned["first_name"],
        last_name=cleaned["last_name"],
        language=language,
    )


class LocalizedChoiceField(forms.ModelChoiceField):
    """A choice of a bilingual record (a topic, a sector), labelled in the page's language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.localized("name"))


class LocalizedMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Checkboxes of bilingual records, labelled in the page's language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.localized("name"))
