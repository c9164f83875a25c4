"""Forms of the catalog: a service type, one of its questions, a routing rule, a decision on
the host city's update, the town's settings. They parse; `crm.services.catalog` and
`crm.services.workspace_settings` validate again and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import selectors, services
from crm.desk.once import SubmissionField
from crm.models import AttributeDatatype, CrmSettings, ServiceType


class ServiceTypeForm(forms.ModelForm):
    """The type's own fields. Its code is chosen at creation, then shown but not changed (it is
    Open311's service_code, known to the apps)."""

    submission = SubmissionField()

    class Meta:
        model = ServiceType
        fields = services.SERVICE_TYPE_FIELDS
        widgets = {
            "description_fr": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = selectors.faq_categories()
        cast(
            forms.ModelChoiceField, self.fields["department"]
        ).queryset = selectors.department_choices()
        self.fields["keywords"].help_text = _(
            "Séparés par des virgules : ils aident à trouver le type dans la recherche."
        )
        if self.instance.pk is not None:
            del self.fields["code"]

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "submission"}


CHOICES_HELP = _(
    "Une ligne par choix : la valeur enregistrée, puis le libellé français et le libellé "
    "anglais, séparés par « ; » (par exemple : petit ; Petit (moins de 30 cm) ; Small). "
    "Seulement pour les questions à choix unique ou multiple."
)


class QuestionForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=60,
        help_text=_(
            "Lettres minuscules sans accent, chiffres, « - » et « _ »; publié dans Open311."
        ),
    )
    label_fr = forms.CharField(label=_("Question (français)"), max_length=300)
    label_en = forms.CharField(label=_("Question (anglais)"), max_length=300, required=False)
    datatype = forms.ChoiceField(label=_("Type de réponse"), choices=AttributeDatatype.choices)
    required = forms.BooleanField(label=_("Réponse obligatoire"), required=False)
    choices = forms.CharField(
        label=_("Choix de réponse"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=CHOICES_HELP,
    )
    submission = SubmissionField()

    @staticmethod
    def initial_of(attribute: Any) -> dict[str, Any]:
        return {
            "code": attribute.code,
            "label_fr": attribute.label_fr,
            "label_en": attribute.label_en,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "choices": "\n".join(
                " ; ".join(part for part in (value.key, value.name_fr, value.name_en) if part)
                for value in attribute.values.all()
            ),
        }

    def clean_choices(self) -> list[services.Choice]:
        parsed: list[services.Choice] = []
        for number, line in enumerate(self.cleaned_data["choices"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(";")]
            if len(parts) > 3 or len(parts) < 2 or not parts[0] or not parts[1]:
                raise forms.ValidationError(
                    _(
                        "Ligne {number} : inscrivez la valeur et le libellé français, "
                        "et au besoin le libellé anglais, séparés par « ; »."
                    ).format(number=number)
                )
            parsed.append((parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
        return parsed


class MoveForm(forms.Form):
    step = forms.TypedChoiceField(choices=[("-1", "-1"), ("1", "1")], coerce=int)
    submission = SubmissionField()


class ConfirmForm(forms.Form):
    submission = SubmissionField()


class RoutingRuleForm(forms.Form):
    sector = forms.ModelChoiceField(label=_("Secteur"), queryset=selectors.sector_choices())
    service_type = forms.ModelChoiceField(
        label=_("Type de requête"),
        queryset=selectors.faq_service_types(),
        required=False,
        empty_label=_("Tous les types"),
    )
    department = forms.ModelChoiceField(
        label=_("Service responsable"), queryset=selectors.department_choices()
    )
    submission = SubmissionField()


class UpstreamDecisionForm(forms.Form):
    kind = forms.CharField(max_length=20)
    item = forms.IntegerField(min_value=1)
    token = forms.CharField(max_length=32)
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("ignore", "ignore")])
    submission = SubmissionField()


class SettingsForm(forms.ModelForm):
    submission = SubmissionField()

    class Meta:
        model = CrmSettings
        fields = services.CRM_SETTINGS_FIELDS
        widgets = {
            "privacy_policy_fr": forms.Textarea(attrs={"rows": 12}),
            "privacy_policy_en": forms.Textarea(attrs={"rows": 12}),
        }

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.CRM_SETTINGS_FIELDS}
