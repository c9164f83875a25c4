"""The portal's forms: searching the answers, saying whether an answer helped, following a
request by its number and tracking code, reporting a problem. They parse; the services validate
(as for the APIs and the desk)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.desk.once import SubmissionField
from crm.intake_forms import (
    LocalizedMultipleChoiceField,
    QuestionsMixin,
)
from crm.models import ServiceType

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
        help_text=_("Par exemple 2026-000123."),
        error_messages={"required": _("Indiquez le numéro de la demande.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    jeton = forms.CharField(
        label=_("Code de suivi"),
        max_length=64,
        help_text=_("Le code qui suit « jeton= » dans le lien de suivi."),
        error_messages={"required": _("Indiquez le code de suivi.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to three photos in one input (`multiple`); each is checked by the service."""

    widget = PhotosInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(item, initial) for item in files]


class NamesForm(forms.Form):
    """A person's first and last names, as the report and the account ask them."""

    first_name = forms.CharField(
        label=_("Prénom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Nom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )


class ReportForm(QuestionsMixin, NamesForm):
    """A problem reported on the portal: the service type's questions, where, what, and how
    to reach the person (all optional: the town's services say what each type requires)."""

    description = forms.CharField(
        label=_("Décrivez la situation"),
        help_text=_("Ce que vous voyez, depuis quand, tout ce qui aide l'équipe à agir."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
    )
    address = forms.CharField(
        label=_("Adresse ou lieu"),
        help_text=_(
            "Par exemple : 12, rue des Érables, ou l'intersection la plus proche. Vous pouvez "
            "aussi placer le lieu sur la carte."
        ),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    latitude = forms.CharField(
        label=_("Latitude"), max_length=30, required=False, widget=forms.HiddenInput
    )
    longitude = forms.CharField(
        label=_("Longitude"), max_length=30, required=False, widget=forms.HiddenInput
    )
    email = forms.EmailField(
        label=_("Courriel"),
        help_text=_("Pour que l'équipe puisse vous écrire au sujet de cette demande."),
        required=False,
        error_messages={
            "invalid": _("Saisissez une adresse courriel valide, par exemple nom@exemple.ca.")
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Téléphone"),
        help_text=_("Si l'équipe doit vous joindre."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    photos = PhotosField(
        label=_("Photos (facultatives)"),
        help_text=_(
            "Jusqu'à 3 photos JPEG, PNG ou WebP, de 10 Mo au plus chacune. Leur position GPS et "
            "leurs autres métadonnées sont retirées."
        ),
        required=False,
        widget=PhotosInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    submission = SubmissionField()
    # The page's order (the names come from NamesForm): the error summary follows it.
    field_order = ("description", "address", "photos", "first_name", "last_name")

    def __init__(self, *args: Any, service_type: ServiceType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_questions(service_type)


SCORES = [
    ("5", _("5 — Très satisfait")),
    ("4", _("4 — Satisfait")),
    ("3", _("3 — Ni satisfait ni insatisfait")),
    ("2", _("2 — Insatisfait")),
    ("1", _("1 — Très insatisfait")),
]


class SatisfactionForm(forms.Form):
    note = forms.TypedChoiceField(
        label=_("Êtes-vous satisfait du traitement de votre demande?"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez une note de 1 à 5."),
            "invalid_choice": _("Choisissez une note de 1 à 5."),
        },
    )
    commentaire = forms.CharField(
        label=_("Un commentaire? (facultatif)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    jeton = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ProfileForm(NamesForm):
    """A citizen's contact details, as they keep them themselves (the e-mail address is the
    account's: it changes with its verification, on the account's e-mail page)."""

    phone = forms.CharField(
        label=_("Téléphone"),
        help_text=_("10 chiffres, par exemple 450 555-1234."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    address = forms.CharField(
        label=_("Adresse"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Langue de communication"),
        choices=[("fr", "Français"), ("en", "English")],
        widget=forms.RadioSelect,
    )


CHANNEL_CHOICES = [
    ("email", _("Par courriel")),
    ("sms", _("Par texto")),
    ("none", _("Aucun avis")),
]


class PreferencesForm(forms.Form):
    """How the citizen wants to be told, topic by topic."""

    def __init__(self, *args: Any, topics: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for purpose, label in topics:
            self.fields[purpose] = forms.ChoiceField(
                label=label,
                choices=CHANNEL_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choisissez comment être avisé.")},
            )


class AlertsForm(forms.Form):
    """The alerts a citizen follows: topics, sectors (none: the whole town), and the channel."""

    topics = LocalizedMultipleChoiceField(
        label=_("Sujets"),
        queryset=selectors.alert_topics(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sectors = LocalizedMultipleChoiceField(
        label=_("Secteurs"),
        queryset=selectors.alert_sectors(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucun secteur coché : les alertes de toute la ville."),
    )
    channel = forms.ChoiceField(
        label=_("Comment les recevoir"),
        choices=CHANNEL_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez comment recevoir les alertes.")},
    )

    def __init__(self, *args: Any, has_sectors: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_sectors:
            del self.fields["sectors"]


class AccountDeleteForm(forms.Form):
    """Deleting one's account: the password, and a box saying the person understood."""

    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Tapez votre mot de passe pour confirmer.")},
    )
    understood = forms.BooleanField(
        label=_(
            "Je comprends que mes renseignements personnels seront effacés et que je ne pourrai "
            "plus me connecter avec ce compte."
        ),
        error_messages={"required": _("Cochez cette case pour confirmer.")},
    )
