"""The portal's forms: searching the answers, saying whether an answer helped, following a
request by its number and tracking code."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SEARCH_MAX = 200


class AnswerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher une réponse"),
        max_length=SEARCH_MAX,
        required=False,
        help_text=_("Par exemple : collecte des ordures, permis de piscine, nid-de-poule."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class FeedbackForm(forms.Form):
    utile = forms.ChoiceField(
        label=_("Cette réponse vous a-t-elle aidé?"),
        choices=[("oui", _("Oui")), ("non", _("Non"))],
        error_messages={
            "required": _("Choisissez « Oui » ou « Non »."),
            "invalid_choice": _("Choisissez « Oui » ou « Non »."),
        },
    )


class TrackForm(forms.Form):
    numero = forms.CharField(
        label=_("Numéro de la demande"),
        max_length=16,
        help_text=_("Il est dans le courriel de confirmation, par exemple 2026-000123."),
        error_messages={"required": _("Indiquez le numéro de la demande.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    jeton = forms.CharField(
        label=_("Code de suivi"),
        max_length=64,
        help_text=_("Le code qui suit « jeton= » dans le lien du courriel de confirmation."),
        error_messages={"required": _("Indiquez le code de suivi.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
