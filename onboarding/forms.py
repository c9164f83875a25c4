"""Forms of the platform console: input parsing only; the rules live in onboarding.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onboarding.models import Activity, ConsoleRole, OnboardingProject, Plan
from onboarding.selectors import host_catalog_outline
from tenants.models import Municipality, Region

# Versioned: a preview signed before the staff rows' keys became English is refused as expired.
STAFF_SIGNING_SALT = "relais.console.staff-preview.v2"


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """`form`'s choice field `name`, typed, to be given the choices known at run time."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


class ProjectStartForm(forms.Form):
    host = forms.ModelChoiceField(
        label=_("Ville hôte"),
        queryset=Municipality.objects.filter(kind=Municipality.Kind.HOST).order_by("name"),
        empty_label=None,
        help_text=_("La ville dont la nouvelle municipalité copie le catalogue et la banque."),
    )
    name = forms.CharField(
        label=_("Nom officiel"), max_length=200, help_text=_("Par exemple : Ville de Lévis")
    )
    slug = forms.CharField(
        label=_("Identifiant"),
        max_length=63,
        help_text=_("Lettres minuscules, chiffres et traits d'union ; devient le sous-domaine."),
    )
    domain = forms.CharField(
        label=_("Domaine"),
        max_length=253,
        help_text=_(
            "Sous-domaine de la plateforme (p. ex. levis.{base}) ou domaine propre à la ville."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_text = self.fields["domain"].help_text
        base_domain = settings.RELAIS_BASE_DOMAIN
        self.fields["domain"].help_text = str(help_text).replace("{base}", base_domain)


class WizardForm(forms.Form):
    """A step of the onboarding wizard (see onboarding.wizard): built on the project it edits,
    from the step's saved values (`initial`); `values()` is what the step saves."""

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        project: OnboardingProject,
        initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, files, initial=initial, **kwargs)
        self.project = project

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class IdentityForm(WizardForm, ProjectStartForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["host"]


class ProfileForm(WizardForm):
    population = forms.IntegerField(label=_("Population"), min_value=1, max_value=5_000_000)
    region = forms.ChoiceField(label=_("Région administrative"), choices=Region.choices)


class PlanForm(WizardForm):
    plan = forms.ChoiceField(label=_("Forfait"), choices=Plan.choices, widget=forms.RadioSelect)


class CatalogForm(WizardForm):
    copy_catalog = forms.BooleanField(
        label=_("Copier le catalogue de services de la ville hôte"), required=False
    )
    include_faq = forms.BooleanField(
        label=_("Copier aussi la banque d'information (articles liés aux types choisis)"),
        required=False,
    )
    service_type_codes = forms.MultipleChoiceField(
        label=_("Types de requêtes à copier"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        project: OnboardingProject,
        initial: dict[str, Any] | None = None,
    ) -> None:
        outline = host_catalog_outline(project=project)
        # The saved values as the fields show them: no choice saved means every type, and
        # each host department shows the code it gets (its own unless mapped).
        saved = dict(initial or {})
        codes = saved.pop("service_type_codes", None)
        department_map = saved.pop("department_map", None) or {}
        every = [t.code for department in outline for t in department.service_types]
        saved["service_type_codes"] = every if codes is None else codes
        for department in outline:
            saved[f"dept_{department.code}"] = department_map.get(department.code, department.code)
        super().__init__(data, files, project=project, initial=saved)
        self.outline = outline
        _choice_field(self, "service_type_codes").choices = [
            (department.name, [(t.code, t.name) for t in department.service_types])
            for department in outline
            if department.service_types
        ]
        for department in outline:
            self.fields[f"dept_{department.code}"] = forms.CharField(
                label=department.name,
                max_length=50,
                initial=department.code,
                help_text=_("Code chez la nouvelle ville (le même code fusionne des services)."),
            )

    def selected_codes(self) -> set[str]:
        return set(self["service_type_codes"].value() or [])

    def department_fields(self) -> list[forms.BoundField]:
        return [self[f"dept_{department.code}"] for department in self.outline]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        codes = list(data["service_type_codes"])
        every = {t.code for d in self.outline for t in d.service_types}
        department_map = {
            department.code: data[f"dept_{department.code}"].strip().lower()
            for department in self.outline
            if data[f"dept_{department.code}"].strip().lower() != department.code
        }
        return {
            "copy_catalog": data["copy_catalog"],
            "include_faq": data["include_faq"] and data["copy_catalog"],
            # Every type chosen means "all", so types the host adds later are copied too.
            "service_type_codes": None if set(codes) == every else codes,
            "department_map": department_map,
        }


class StaffForm(WizardForm):
    administrator_email = forms.EmailField(
        label=_("Courriel du premier administrateur municipal"),
        max_length=254,  # an account's address (Django's validator allows 320)
        help_text=_("Cette personne reçoit une invitation à choisir son mot de passe."),
    )
    staff_file = forms.FileField(
        label=_("Fichier du personnel (CSV)"),
        required=False,
        help_text=_(
            "Colonnes : courriel, prenom, nom, role (administrateur ou personnel), "
            "langue (fr ou en). Séparateur virgule ou point-virgule, encodage UTF-8."
        ),
    )
    staff_rows = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_staff_file(self) -> Any:
        upload = self.cleaned_data.get("staff_file")
        if upload is not None and upload.size > 1_000_000:
            raise forms.ValidationError(_("Le fichier dépasse 1 Mo."))
        return upload

    def clean_staff_rows(self) -> list[dict[str, str]] | None:
        raw = self.cleaned_data.get("staff_rows")
        if not raw:
            return None
        try:
            rows = signing.loads(raw, salt=STAFF_SIGNING_SALT, max_age=3600)
        except signing.BadSignature as error:
            raise forms.ValidationError(
                _("L'aperçu a expiré : téléversez le fichier de nouveau.")
            ) from error
        return list(rows)

    def values(self) -> dict[str, Any]:
        """The administrator and the confirmed preview's rows; without a preview, the list
        saved before stays."""
        return {
            "administrator_email": self.cleaned_data["administrator_email"],
            "staff": self.cleaned_data["staff_rows"] or self.project.staff,
        }


class BrandingForm(WizardForm):
    display_name = forms.CharField(
        label=_("Nom affiché"),
        max_length=100,
        required=False,
        help_text=_("Nom court dans l'en-tête du site, p. ex. « Lévis »."),
    )
    primary_colour = forms.RegexField(
        label=_("Couleur principale"),
        regex=r"^#[0-9a-fA-F]{6}$",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Doit contraster avec le blanc (4,5:1 au moins)."),
    )
    privacy_officer_name = forms.CharField(
        label=_("Responsable de la protection des renseignements personnels"), max_length=200
    )
    privacy_officer_email = forms.EmailField(label=_("Courriel du responsable"))


class ChecklistForm(forms.Form):
    done = forms.MultipleChoiceField(
        label=_("Éléments faits"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "done").choices = choices


class TimeEntryForm(forms.Form):
    day = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    activity = forms.ChoiceField(label=_("Activité"), choices=Activity.choices)
    hours = forms.DecimalField(
        label=_("Heures"), min_value=0.25, max_value=24, decimal_places=2, max_digits=4
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate()


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("Courriel"), max_length=254)
    role = forms.ChoiceField(label=_("Rôle"), choices=ConsoleRole.choices)


class ServicesImportForm(forms.Form):
    services_file = forms.FileField(
        label=_("Liste de services Open311 (services.json ou services.xml)"),
        help_text=_("Exportée par le système Open311 d'une autre ville, avec ses attributs."),
    )
    department = forms.CharField(
        label=_("Code du service municipal qui recevra ces types"), max_length=40
    )
    language = forms.ChoiceField(
        label=_("Langue du document"), choices=[("fr", _("Français")), ("en", _("Anglais"))]
    )

    def clean_services_file(self) -> Any:
        upload = self.cleaned_data["services_file"]
        if upload.size > 5_000_000:
            raise forms.ValidationError(_("Le fichier dépasse 5 Mo."))
        return upload


class RequestsUploadForm(forms.Form):
    requests_file = forms.FileField(
        label=_("Fichier CSV des requêtes historiques"),
        help_text=_("Première ligne : les noms de colonnes. UTF-8 ou Windows-1252."),
    )

    def clean_requests_file(self) -> Any:
        upload = self.cleaned_data["requests_file"]
        if upload.size > 50_000_000:
            raise forms.ValidationError(_("Le fichier dépasse 50 Mo."))
        return upload


class RequestsMappingForm(forms.Form):
    """One select per Relais field (the file's columns), defaults for status and channel, the
    date format: the mapping the import service reads."""

    date_format = forms.CharField(
        label=_("Format des dates"),
        required=False,
        max_length=40,
        help_text=_("Vide : ISO 8601 (2024-05-17 14:30). Sinon p. ex. %d/%m/%Y %H:%M."),
    )
    ENCODINGS = (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252"))

    encoding = forms.ChoiceField(label=_("Encodage"), choices=ENCODINGS)
    default_status = forms.ChoiceField(
        label=_("Statut quand la colonne manque ou est vide"), required=False
    )
    default_channel = forms.ChoiceField(
        label=_("Canal quand la colonne manque ou est vide"), required=False
    )

    def __init__(
        self,
        *args: Any,
        columns: list[str],
        fields: tuple[str, ...],
        field_labels: dict[str, str],
        statuses: list[tuple[str, str]],
        channels: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.mapped = list(fields)
        choices = [("", _("(aucune colonne)")), *[(c, c) for c in columns]]
        for name in fields:
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=field_labels.get(name, name), choices=choices, required=False
            )
            guess = next((c for c in columns if c.strip().lower() == name), "")
            self.fields[f"col_{name}"].initial = guess
        _choice_field(self, "default_status").choices = [("", "—"), *statuses]
        _choice_field(self, "default_channel").choices = [("", "—"), *channels]

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{name}"] for name in self.mapped]

    def mapping(self) -> dict[str, Any]:
        data = self.cleaned_data
        mapping: dict[str, Any] = {
            name: data[f"col_{name}"] for name in self.mapped if data.get(f"col_{name}")
        }
        defaults = {
            key: data[f"default_{key}"]
            for key in ("status", "channel")
            if data.get(f"default_{key}")
        }
        if defaults:
            mapping["defaults"] = defaults
        if data.get("date_format"):
            mapping["date_format"] = data["date_format"]
        mapping["encoding"] = data["encoding"]
        return mapping


class ConfirmDeleteForm(forms.Form):
    confirmation = forms.CharField(
        label=_("Tapez l'identifiant de la municipalité pour confirmer"), max_length=63
    )
