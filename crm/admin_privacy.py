"""Law 25 in the town's admin: the purpose asked before a citizen's data is shown, the export
and anonymisation of a person, and the register of confidentiality incidents.

Interface only: the rules are in `crm.privacy` and `crm.services`. A stated purpose is
remembered in the staff member's session for `PURPOSE_LIFETIME`, for that one record (or for
list and search pages), and written to the access log with every page it lets through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Field, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import privacy, selectors, services
from crm.errors import CrmError
from crm.models import (
    AccessAction,
    Citizen,
    PrivacyIncident,
    PrivacyIncidentVersion,
)
from crm.roles import acting_user
from tenants.admin import on_platform

PURPOSE_LIFETIME = timedelta(minutes=30)
SESSION_KEY = "relais_access_purposes"
LAST_PURPOSE_KEY = "relais_last_access_purpose"
LIST_SCOPE = "citizens"
OTHER = "other"

ACCESS_PURPOSES = [
    ("request", _("Traitement d'une requête du citoyen")),
    ("contact", _("Réponse à un appel, un courriel ou une visite du citoyen")),
    ("update", _("Mise à jour ou correction de la fiche")),
    ("duplicates", _("Recherche et fusion de doublons")),
    ("rights", _("Demande de la personne concernant ses renseignements (Loi 25)")),
    (OTHER, _("Autre motif (précisez)")),
]
EXPORT_PURPOSES = [
    ("access", _("Demande d'accès de la personne à ses renseignements")),
    ("portability", _("Demande de communication dans un format structuré (portabilité)")),
    ("authority", _("Obligation légale ou demande d'une autorité")),
    (OTHER, _("Autre motif (précisez)")),
]
ERASURE_PURPOSES = [
    ("erasure", _("Demande d'effacement de la personne")),
    ("retention", _("Fin de la durée de conservation")),
    (OTHER, _("Autre motif (précisez)")),
]


def record_scope(citizen_id: int) -> str:
    return f"citizen:{citizen_id}"


def stated_purpose(request: HttpRequest, scope: str) -> str | None:
    """The purpose this staff member gave for `scope` less than PURPOSE_LIFETIME ago."""
    entry = request.session.get(SESSION_KEY, {}).get(scope)
    if not entry or entry["until"] <= timezone.now().timestamp():
        return None
    return str(entry["purpose"])


def state_purpose(
    request: HttpRequest, scope: str, purpose: str, answer: dict[str, str] | None = None
) -> None:
    """Remember `purpose` for `scope`; `answer` (the form's choice and text) is offered again
    on the next purpose form."""
    now = timezone.now().timestamp()
    stated = {
        key: entry
        for key, entry in request.session.get(SESSION_KEY, {}).items()
        if entry["until"] > now
    }
    stated[scope] = {"purpose": purpose, "until": now + PURPOSE_LIFETIME.total_seconds()}
    request.session[SESSION_KEY] = stated
    if answer is not None:
        request.session[LAST_PURPOSE_KEY] = answer


class PurposeForm(forms.Form):
    """A common purpose, or free text; the log gets the purpose in the town's language."""

    reason = forms.ChoiceField(label=_("Motif"), widget=forms.RadioSelect)
    details = forms.CharField(
        label=_("Précisions"),
        max_length=200,
        required=False,
        help_text=_(
            "Obligatoire pour « Autre motif », p. ex. le numéro de la requête ou de la demande. "
            "200 caractères au plus."
        ),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        cast(forms.ChoiceField, self.fields["reason"]).choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == OTHER and not cleaned.get("details", "").strip():
            self.add_error("details", gettext("Précisez le motif."))
        return cleaned

    def purpose(self) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            label = str(dict(self.choices)[self.cleaned_data["reason"]])
        details = self.cleaned_data["details"].strip()
        if self.cleaned_data["reason"] == OTHER:
            return details
        return f"{label} — {details}" if details else label


class ViewPurposeForm(PurposeForm):
    scope = forms.RegexField(regex=r"^(citizens|citizen:\d+)$", widget=forms.HiddenInput)
    next = forms.CharField(max_length=500, widget=forms.HiddenInput)


class AnonymiseForm(PurposeForm):
    confirm = forms.BooleanField(
        label=_("Je comprends que l'anonymisation est irréversible."),
        error_messages={"required": _("Cochez cette case pour confirmer l'anonymisation.")},
    )


class CitizenPrivacyMixin(admin.ModelAdmin):
    """CitizenAdmin's Law 25 behaviour: purpose first, then the page, then the log line."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Citizen], search_term: str
    ) -> tuple[QuerySet[Citizen], bool]:
        # The admin's autocomplete searches any admin's records by their search fields, without
        # the purpose form or the access log: nothing in Relais needs it for citizens.
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            raise PermissionDenied(_("La recherche de citoyens passe par leur liste."))
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self) -> list[URLPattern]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("motif/", wrap(self.purpose_view), name=f"{info}_purpose"),
            path("<path:object_id>/exporter/", wrap(self.export_view), name=f"{info}_export"),
            path(
                "<path:object_id>/anonymiser/", wrap(self.anonymise_view), name=f"{info}_anonymise"
            ),
            *super().get_urls(),
        ]

    # --- The purpose ----------------------------------------------------------------------------
    def _purpose_page(
        self,
        request: HttpRequest,
        scope: str,
        next_url: str,
        form: ViewPurposeForm | None = None,
    ) -> TemplateResponse:
        if form is None:
            answer = request.session.get(LAST_PURPOSE_KEY) or {}
            form = ViewPurposeForm(
                choices=ACCESS_PURPOSES, initial={**answer, "scope": scope, "next": next_url}
            )
        record = scope.removeprefix("citizen:") if scope != LIST_SCOPE else None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Motif de la consultation"),
            "opts": self.opts,
            "form": form,
            "record": record,
            "minutes": int(PURPOSE_LIFETIME.total_seconds() // 60),
            "action": reverse("admin:crm_citizen_purpose"),
            "cancel_url": reverse("admin:index"),
            "unsaved": request.method == "POST" and form.is_bound is False,
        }
        return TemplateResponse(request, "admin/crm/access_purpose.html", context)

    def purpose_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:crm_citizen_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        form = ViewPurposeForm(request.POST, choices=ACCESS_PURPOSES)
        if not form.is_valid():
            scope = form.cleaned_data.get("scope") or LIST_SCOPE
            return self._purpose_page(request, scope, changelist, form)
        next_url = form.cleaned_data["next"]
        if not (
            next_url.startswith(changelist)
            and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()})
        ):
            next_url = changelist
        state_purpose(
            request,
            form.cleaned_data["scope"],
            form.purpose(),
            {"reason": form.cleaned_data["reason"], "details": form.cleaned_data["details"]},
        )
        return HttpResponseRedirect(next_url)

    def _citizen_or_none(self, request: HttpRequest, object_id: str) -> Citizen | None:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return cast(Citizen | None, self.get_object(request, unquote(object_id)))

    def _shown_with_purpose(
        self,
        request: HttpRequest,
        citizen: Citizen,
        show: Callable[[], HttpResponse],
        details: str = "",
    ) -> HttpResponse:
        """A page of a citizen's record: shown once the staff member has stated why, and
        logged with that purpose once actually shown (a saved form redirects, showing
        nothing)."""
        purpose = stated_purpose(request, record_scope(citizen.pk))
        if purpose is None:
            return self._purpose_page(request, record_scope(citizen.pk), request.get_full_path())
        response = show()
        if response.status_code == 200:
            services.access_log_record(
                actor=acting_user(request),
                citizen=citizen,
                action=AccessAction.VIEW,
                purpose=purpose,
                context="admin",
                details=details,
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        citizen = self._citizen_or_none(request, object_id)
        if citizen is None:  # Django's own answer for a missing record
            return super().change_view(request, object_id, form_url, extra_context)
        extra_context = {**(extra_context or {}), **self._rights_tools(request, citizen)}
        return self._shown_with_purpose(
            request,
            citizen,
            lambda: super(CitizenPrivacyMixin, self).change_view(
                request, object_id, form_url, extra_context
            ),
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        citizen = self._citizen_or_none(request, object_id)
        if citizen is None:
            return super().history_view(request, object_id, extra_context)
        return self._shown_with_purpose(
            request,
            citizen,
            lambda: super(CitizenPrivacyMixin, self).history_view(
                request, object_id, extra_context
            ),
            details="Historique des modifications",
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        purpose = stated_purpose(request, LIST_SCOPE)
        if purpose is None:
            return self._purpose_page(request, LIST_SCOPE, request.get_full_path())
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            shown = len(changelist.result_list) if changelist is not None else 0
            search = request.GET.get("q", "")
            services.access_list_log_record(
                actor=acting_user(request),
                purpose=purpose,
                context="admin",
                details=f"{shown} fiche(s)" + (f", recherche « {search} »" if search else ""),
            )
        return response

    # --- Export and anonymisation (municipal administrators) ------------------------------------
    def _rights_tools(self, request: HttpRequest, citizen: Citizen) -> dict[str, Any]:
        if citizen.anonymised_at is not None or not selectors.is_town_administrator(
            user=request.user
        ):
            return {}
        return {
            "export_url": reverse("admin:crm_citizen_export", args=[citizen.pk]),
            "anonymise_url": reverse("admin:crm_citizen_anonymise", args=[citizen.pk]),
        }

    def _rights_citizen(self, request: HttpRequest, object_id: str) -> Citizen:
        if on_platform() or not selectors.is_town_administrator(user=request.user):
            raise PermissionDenied
        citizen = self.get_object(request, unquote(object_id))
        if citizen is None:
            raise Http404
        return cast(Citizen, citizen)

    def _rights_context(self, request: HttpRequest, citizen: Citizen, **extra: Any) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "citizen_id": citizen.pk,
            "record_url": reverse("admin:crm_citizen_change", args=[citizen.pk]),
            **extra,
        }

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        citizen = self._rights_citizen(request, object_id)
        form = PurposeForm(request.POST or None, choices=EXPORT_PURPOSES)
        if request.method == "POST" and form.is_valid():
            document = privacy.citizen_export(
                actor=acting_user(request),
                citizen=citizen,
                purpose=form.purpose(),
                context="admin",
            )
            response = HttpResponse(
                json.dumps(document, ensure_ascii=False, indent=2),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="citoyen-{document["citizen"]["id"]}.json"'
            )
            response["Cache-Control"] = "no-store"
            return response
        context = self._rights_context(
            request,
            citizen,
            title=gettext("Exporter les données de la fiche n° {id}").format(id=citizen.pk),
            form=form,
        )
        return TemplateResponse(request, "admin/crm/citizen_export.html", context)

    def anonymise_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        citizen = self._rights_citizen(request, object_id)
        form = AnonymiseForm(request.POST or None, choices=ERASURE_PURPOSES)
        if request.method == "POST" and form.is_valid():
            try:
                result = privacy.citizen_anonymise(
                    actor=acting_user(request),
                    citizen=citizen,
                    reason=form.purpose(),
                    context="admin",
                )
            except CrmError as error:
                form.add_error(None, error.message)
            else:
                kept = selectors.citizen_by_pk(pk=result.citizen_id)
                self.log_change(request, kept, gettext("Fiche anonymisée."))
                # The record now names nobody: opening it right away needs no new purpose.
                state_purpose(request, record_scope(kept.pk), form.purpose())
                messages.success(
                    request,
                    gettext(
                        "Fiche n° {id} anonymisée : {records} fiche(s), {requests} requête(s) "
                        "et {interactions} interaction(s) ne permettent plus d'identifier la "
                        "personne."
                    ).format(
                        id=kept.pk,
                        records=result.records,
                        requests=result.requests,
                        interactions=result.interactions,
                    ),
                )
                return HttpResponseRedirect(reverse("admin:crm_citizen_change", args=[kept.pk]))
        preview = privacy.anonymisation_preview(citizen=citizen)
        context = self._rights_context(
            request,
            citizen,
            title=gettext("Anonymiser la fiche n° {id}").format(id=preview.citizen_id),
            form=form,
            preview=preview,
        )
        return TemplateResponse(request, "admin/crm/citizen_anonymise.html", context)


# --- Register of confidentiality incidents -----------------------------------------------------
class PrivacyIncidentForm(ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PrivacyIncident
        fields = (*privacy.INCIDENT_FIELDS, "expected_version")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        expected = cleaned.get("expected_version")
        if self.instance.pk is not None and expected is not None:
            current = privacy.incident_version(pk=self.instance.pk)
            if current != expected:
                raise forms.ValidationError(
                    gettext(
                        "Cet incident a été modifié par quelqu'un d'autre depuis que vous "
                        "l'avez ouvert : rechargez la page pour voir ses changements."
                    )
                )
        if any(name in self.errors for name in privacy.INCIDENT_FIELDS):
            return cleaned  # rules compare fields: first let each field be valid on its own
        candidate = PrivacyIncident(**{name: cleaned.get(name) for name in privacy.INCIDENT_FIELDS})
        for field, message in privacy.incident_problems(candidate):
            self.add_error(field if field in self.fields else None, message)
        return cleaned


def _incident_field(name: str) -> Field:
    return cast(Field, PrivacyIncident._meta.get_field(name))


def _shown_value(field_name: str, value: Any) -> str:
    field = _incident_field(field_name)
    if value in (None, ""):
        return gettext("(vide)")
    if isinstance(value, bool):
        return gettext("Oui") if value else gettext("Non")
    choices = dict(field.flatchoices) if field.choices else {}
    return str(choices.get(value, value))


class PrivacyIncidentVersionInline(admin.TabularInline):
    model = PrivacyIncidentVersion
    extra = 0
    can_delete = False
    fields = ("version", "changed_at", "changed_by", "changes")
    readonly_fields = fields
    ordering = ("-version",)
    verbose_name = _("version")
    verbose_name_plural = _("historique des versions")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("champs modifiés et leur nouvelle valeur"))
    def changes(self, version: PrivacyIncidentVersion) -> SafeString:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> : {}</li>",
                (
                    (
                        str(_incident_field(name).verbose_name).capitalize(),
                        _shown_value(name, version.snapshot.get(name)),
                    )
                    for name in version.changed_fields
                ),
            ),
        )


@admin.register(PrivacyIncident)
class PrivacyIncidentAdmin(admin.ModelAdmin):
    """The privacy officer's register: municipal administrators only; never deleted."""

    form = PrivacyIncidentForm
    list_display = (
        "title",
        "occurred_on",
        "discovered_on",
        "persons_concerned",
        "risk",
        "cai_notified_on",
        "persons_notified_on",
        "status",
        "version",
    )
    list_filter = ("status", "risk")
    search_fields = ("title", "information_concerned", "circumstances")
    date_hierarchy = "discovered_on"
    readonly_fields = ("version", "created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "status", "expected_version")}),
        (
            _("L'incident"),
            {
                "fields": (
                    "information_concerned",
                    "circumstances",
                    "occurred_on",
                    "occurred_until",
                    "discovered_on",
                    "persons_concerned",
                    "persons_concerned_estimated",
                )
            },
        ),
        (_("Évaluation du risque de préjudice sérieux"), {"fields": ("risk", "risk_assessment")}),
        (
            _("Avis"),
            {"fields": ("cai_notified_on", "persons_notified_on", "notices_details")},
        ),
        (_("Mesures prises"), {"fields": ("measures_taken",)}),
        (_("Suivi"), {"fields": ("version", "created_by", "created_at", "updated_at")}),
    )
    inlines = [PrivacyIncidentVersionInline]

    def _administrator(self, request: HttpRequest) -> bool:
        return not on_platform() and selectors.is_town_administrator(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administrator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._administrator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administrator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the register keeps every incident

    def save_model(
        self, request: HttpRequest, obj: PrivacyIncident, form: ModelForm, change: bool
    ) -> None:
        # Through the services: every save is a version, with its author.
        fields = {name: form.cleaned_data[name] for name in privacy.INCIDENT_FIELDS}
        actor = acting_user(request)
        try:
            if change:
                saved = privacy.incident_update(
                    actor=actor,
                    incident=obj,
                    expected_version=form.cleaned_data.get("expected_version"),
                    **fields,
                )
            else:
                saved = privacy.incident_create(actor=actor, **fields)
        except CrmError as error:  # a change made between the form's check and this save
            raise PermissionDenied(error.message) from error
        obj.pk, obj.version, obj.created_by_id = saved.pk, saved.version, saved.created_by_id

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        form.instance = privacy.incident_by_pk(pk=form.instance.pk)
        super().save_related(request, form, formsets, change)
