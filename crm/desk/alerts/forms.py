"""The alert publishing form. It parses; `crm.services.alert_publish` validates again and
writes the alert with its messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.desk.once import SubmissionField
from crm.intake_forms import LocalizedChoiceField, LocalizedMultipleChoiceField
from crm.services import alerts as alert_services


class AlertForm(forms.Form):
    topic = LocalizedChoiceField(
        label=_("Sujet"), queryset=selectors.alert_topics(), empty_label=None
    )
    sectors = LocalizedMultipleChoiceField(
        label=_("Secteurs"),
        queryset=selectors.alert_sectors(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucun secteur coché : toute la ville."),
    )
    title_fr = forms.CharField(label=_("Titre (français)"), max_length=alert_services.TITLE_MAX)
    body_fr = forms.CharField(
        label=_("Texte (français)"),
        max_length=alert_services.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    title_en = forms.CharField(
        label=_("Titre (anglais)"),
        max_length=alert_services.TITLE_MAX,
        required=False,
        help_text=_("Vide : les abonnés anglophones reçoivent le texte français."),
    )
    body_en = forms.CharField(
        label=_("Texte (anglais)"),
        max_length=alert_services.BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    ends_at = forms.DateTimeField(
        label=_("En vigueur jusqu'au"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Facultatif. Sans fin, l'alerte reste affichée 14 jours sur le portail."),
    )
    submission = SubmissionField()

    def __init__(self, *args: Any, has_sectors: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_sectors:
            del self.fields["sectors"]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "topic": data["topic"],
            "sectors": data.get("sectors") or [],
            "title_fr": data["title_fr"],
            "body_fr": data["body_fr"],
            "title_en": data["title_en"],
            "body_en": data["body_en"],
            "ends_at": data["ends_at"],
        }
