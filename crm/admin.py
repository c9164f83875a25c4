"""Django admin of a town's CRM, for its municipal administrators (French first).

Writes that have rules (information bank versions, request workflow) go through the services;
timelines, interactions and the access log are read-only here. Shown on a town's host only:
the platform's schema has no CRM tables.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import selectors, services, upstream
from crm.admin_privacy import CitizenPrivacyMixin
from crm.diffs import word_diff
from crm.errors import CrmError
from crm.models import (
    AccessAction,
    AccessLog,
    AlertTopic,
    ApiKey,
    BusinessCalendar,
    Citizen,
    CitizenChange,
    CitizenMerge,
    ClosureDay,
    Consent,
    CrmSettings,
    Department,
    FaqArticle,
    FaqArticleVersion,
    Interaction,
    Notification,
    RequestEvent,
    RoutingRule,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceCategory,
    ServiceRequest,
    ServiceType,
    StaffProfile,
    UpstreamUpdate,
    WorkingHours,
)
from crm.roles import acting_user, viewer_of
from tenants.admin import SchemaScopedAdmin, on_platform


class TownAdmin(SchemaScopedAdmin):
    """Hidden on the platform's domain, whose schema has no CRM tables."""

    def visible_here(self) -> bool:
        return not on_platform()


class ReadOnlyAdmin(TownAdmin):
    """Records that are evidence (timelines, interactions, accesses): viewable, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UpstreamCountMixin:
    """Changelists of copied items say how many of the host's updates wait for a decision."""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET" and _may_review_upstream(request):
            count = upstream.upstream_change_count()
            extra_context = {
                **(extra_context or {}),
                "upstream_count": count,
                "upstream_url": reverse("admin:crm_upstreamupdate_changelist"),
            }
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


def _may_review_upstream(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and (
        user.has_perm("crm.change_servicetype") or user.has_perm("crm.change_faqarticle")
    )


# --- Catalog -------------------------------------------------------------------------------------
@admin.register(Department)
class DepartmentAdmin(TownAdmin):
    list_display = ("name_fr", "code", "email", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_fr", "name_en", "code")


@admin.register(Sector)
class SectorAdmin(TownAdmin):
    """A sector's boundary is GeoJSON (longitude, latitude), e.g. exported from the town's GIS;
    it is checked (a valid polygon inside Québec) when saved."""

    list_display = ("name_fr", "code")
    search_fields = ("name_fr", "code")


@admin.register(AlertTopic)
class AlertTopicAdmin(TownAdmin):
    list_display = ("name_fr", "name_en", "code", "order", "is_active")
    list_filter = ("is_active",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox: what was sent, what waits, what failed or may have left (uncertain)."""

    list_display = ("created_at", "kind", "channel", "status", "attempts", "request", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("request__number",)
    list_select_related = ("request",)
    exclude = ("body_html",)


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(TownAdmin):
    list_display = ("name_fr", "code", "order")
    search_fields = ("name_fr", "name_en", "code")


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0
    fields = ("order", "code", "label_fr", "label_en", "datatype", "required")
    show_change_link = True


@admin.register(ServiceType)
class ServiceTypeAdmin(UpstreamCountMixin, TownAdmin):
    list_display = ("code", "name_fr", "category", "department", "kind", "is_public", "is_active")
    list_filter = ("kind", "is_public", "is_active", "category", "department")
    search_fields = ("code", "name_fr", "name_en", "keywords")
    list_select_related = ("category", "department")
    readonly_fields = ("uuid", "source_uuid", "created_at", "updated_at")
    exclude = ("source_fingerprint", "source_seen")
    fieldsets = (
        (None, {"fields": ("code", "name_fr", "name_en", "category", "department", "kind")}),
        (_("Descriptions"), {"fields": ("description_fr", "description_en", "keywords")}),
        (
            _("Traitement"),
            {"fields": ("sla_value", "sla_unit", "default_priority", "location_required")},
        ),
        (_("Publication"), {"fields": ("is_public", "is_active")}),
        (_("Provenance"), {"fields": ("uuid", "source_uuid", "created_at", "updated_at")}),
    )
    inlines = [ServiceAttributeInline]


class ServiceAttributeValueInline(admin.TabularInline):
    model = ServiceAttributeValue
    extra = 0


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(TownAdmin):
    list_display = ("code", "service_type", "datatype", "required", "order")
    list_filter = ("datatype", "required")
    search_fields = ("code", "label_fr", "service_type__code")
    inlines = [ServiceAttributeValueInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from its service type


@admin.register(RoutingRule)
class RoutingRuleAdmin(TownAdmin):
    list_display = ("sector", "service_type", "department")
    list_select_related = ("sector", "service_type", "department")


# --- Information bank ----------------------------------------------------------------------------
class FaqArticleVersionInline(ReadOnlyInline):
    model = FaqArticleVersion
    fields = ("version", "status", "question_fr", "edited_by", "edited_at")
    readonly_fields = fields
    ordering = ("-version",)


class FaqArticleForm(ModelForm):
    class Meta:
        model = FaqArticle
        fields = (*services.FAQ_FIELDS, "service_types")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = FaqArticle(**{name: cleaned.get(name) for name in services.FAQ_FIELDS})
        try:
            services.faq_article_validate(candidate)
        except CrmError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(FaqArticle)
class FaqArticleAdmin(UpstreamCountMixin, TownAdmin):
    form = FaqArticleForm
    list_display = ("question_fr", "category", "audience", "status", "owner_department", "version")
    list_filter = ("status", "audience", "category", "owner_department")
    search_fields = ("question_fr", "question_en", "answer_fr", "answer_en")
    list_select_related = ("category", "owner_department")
    filter_horizontal = ("service_types",)
    readonly_fields = ("version", "updated_by", "uuid", "source_uuid", "created_at", "updated_at")
    fields = (
        "question_fr",
        "answer_fr",
        "question_en",
        "answer_en",
        "category",
        "service_types",
        "audience",
        "status",
        "owner_department",
        "review_on",
        *readonly_fields,
    )
    inlines = [FaqArticleVersionInline]

    def save_model(
        self, request: HttpRequest, obj: FaqArticle, form: ModelForm, change: bool
    ) -> None:
        # Through the services, so that every edit is a new version with its author.
        fields = {name: form.cleaned_data[name] for name in services.FAQ_FIELDS}
        if change:
            saved = services.faq_article_update(actor=acting_user(request), article=obj, **fields)
        else:
            saved = services.faq_article_create(actor=acting_user(request), **fields)
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        form.instance = selectors.faq_article_by_pk(pk=form.instance.pk)
        super().save_related(request, form, formsets, change)


# --- Updates from the host town ------------------------------------------------------------------
def _diff_html(old: str, new: str) -> SafeString:
    """`new` against `old`, word by word: <del> for what goes, <ins> for what comes, each with
    a text label for screen readers (the strike-through and underline are not the only cue)."""
    parts: list[str] = []
    for part in word_diff(old, new):
        if part.removed:
            parts.append(
                format_html(
                    '<del><span class="relais-sr">{}</span>{}</del>',
                    gettext("[retiré :] "),
                    part.text,
                )
            )
        elif part.added:
            parts.append(
                format_html(
                    '<ins><span class="relais-sr">{}</span>{}</ins>',
                    gettext("[ajouté :] "),
                    part.text,
                )
            )
        else:
            parts.append(format_html("{}", part.text))
    return mark_safe("".join(parts))  # noqa: S308 (every part is escaped by format_html)


class UpstreamDecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=[(kind, kind) for kind in upstream.FOLLOWED])
    item = forms.IntegerField(min_value=1)
    token = forms.CharField(max_length=32)
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("ignore", "ignore")])


@admin.register(UpstreamUpdate)
class UpstreamUpdateAdmin(TownAdmin):
    """The host's edits of copied service types and articles, each to accept or ignore."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        # Only in a town made from a host's catalog.
        return (
            self.visible_here()
            and _may_review_upstream(request)
            and upstream.host_schema() is not None
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.visible_here() and _may_review_upstream(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._decide(request)
        items = []
        for change in upstream.upstream_changes():
            followed = upstream.FOLLOWED[change.kind]
            rows = []
            for field in change.fields:
                mine = upstream.shown_value(followed, field.name, field.local_value)
                theirs = upstream.shown_value(followed, field.name, field.host_value)
                rows.append(
                    {
                        "label": field.label,
                        "mine": mine,
                        "theirs": _diff_html(mine, theirs),
                        "effect": upstream.decision_effect(change, field),
                        "conflict": field.changed_upstream and field.changed_locally,
                    }
                )
            items.append(
                {
                    "change": change,
                    "rows": rows,
                    "url": reverse(
                        f"admin:crm_{followed.model._meta.model_name}_change", args=[change.id]
                    ),
                    "may_decide": request.user.has_perm(
                        f"crm.change_{followed.model._meta.model_name}"
                    ),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Mises à jour de la ville hôte"),
            "opts": self.model._meta,
            "items": items,
            "has_host": upstream.host_schema() is not None,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/crm/upstream_updates.html", context)

    def _decide(self, request: HttpRequest) -> HttpResponse:
        here = HttpResponseRedirect(request.path)
        form = UpstreamDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Demande incomplète : rechargez la page."))
            return here
        kind, item_id = form.cleaned_data["kind"], form.cleaned_data["item"]
        model = upstream.FOLLOWED[kind].model
        if not request.user.has_perm(f"crm.change_{model._meta.model_name}"):
            raise PermissionDenied
        decide = (
            upstream.upstream_accept
            if form.cleaned_data["decision"] == "accept"
            else upstream.upstream_ignore
        )
        try:
            change = decide(
                actor=acting_user(request),
                kind=kind,
                item_id=item_id,
                token=form.cleaned_data["token"],
            )
        except CrmError as error:
            messages.error(request, error.message)
            return here
        accepted = form.cleaned_data["decision"] == "accept"
        message = (
            gettext("Mise à jour de la ville hôte acceptée : « {title} ».")
            if accepted
            else gettext("Mise à jour de la ville hôte ignorée : « {title} ».")
        ).format(title=change.title)
        item = upstream.upstream_item(kind=kind, item_id=item_id)
        self.log_change(request, item, message)
        messages.success(request, message)
        return here


# --- Citizens ------------------------------------------------------------------------------------
class ConsentInline(ReadOnlyInline):
    model = Consent
    fk_name = "citizen"
    fields = ("purpose", "granted", "channel", "recorded_at", "recorded_by")
    readonly_fields = fields


class CitizenChangeInline(ReadOnlyInline):
    """Who created or changed the record, and which fields (Law 25's trail; no values)."""

    model = CitizenChange
    fk_name = "citizen"
    fields = ("changed_at", "actor", "created", "fields")
    readonly_fields = fields


class CitizenForm(ModelForm):
    class Meta:
        model = Citizen
        fields = services.CITIZEN_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = Citizen(
            **{
                name: cleaned.get(name) or ""
                for name in services.CITIZEN_FIELDS
                if not name.startswith("notify_")
            }
        )
        try:
            services.citizen_validate(candidate)
        except CrmError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(Citizen)
class CitizenAdmin(CitizenPrivacyMixin, TownAdmin):
    """Citizens are shown once the staff member has said why (Law 25, see crm.admin_privacy);
    municipal administrators export or anonymise them from their record."""

    form = CitizenForm
    list_display = ("__str__", "email", "phone", "preferred_language", "merged_into")
    search_fields = ("last_name", "first_name", "email", "phone")
    readonly_fields = ("account", "merged_into", "anonymised_at", "created_at", "updated_at")
    inlines = [ConsentInline, CitizenChangeInline]

    def get_inlines(self, request: HttpRequest, obj: Citizen | None) -> list[type[Any]]:
        # A record being created has no trail yet.
        return [ConsentInline] if obj is None else [ConsentInline, CitizenChangeInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.anonymised_at is not None:
            return False  # nothing to correct, and nothing may be added back
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # merged or anonymised, never deleted: requests point to it

    def save_model(self, request: HttpRequest, obj: Citizen, form: ModelForm, change: bool) -> None:
        # Through the services: contact data is normalized and validated the same way everywhere.
        fields = {name: form.cleaned_data[name] for name in services.CITIZEN_FIELDS}
        if change:
            saved = services.citizen_update(actor=acting_user(request), citizen=obj, **fields)
        else:
            saved = services.citizen_create(actor=acting_user(request), **fields)
        obj.pk = saved.pk


@admin.register(CitizenMerge)
class CitizenMergeAdmin(ReadOnlyAdmin):
    list_display = ("merged_at", "kept", "merged", "actor")
    list_select_related = ("kept", "merged", "actor")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("accessed_at", "actor", "citizen", "action", "purpose", "context")
    list_filter = ("action", "context")
    list_select_related = ("actor", "citizen")
    date_hierarchy = "accessed_at"


# --- Requests ------------------------------------------------------------------------------------
class RequestEventInline(ReadOnlyInline):
    model = RequestEvent
    fields = ("created_at", "kind", "visibility", "from_status", "to_status", "actor", "message")
    readonly_fields = fields


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    """Requests change through the workflow (agent desk, API): here they are consulted."""

    list_display = (
        "number",
        "service_type",
        "status",
        "priority",
        "department",
        "channel",
        "channel_detail",
        "created_at",
        "sla_due_at",
    )
    list_filter = ("status", "priority", "channel", "kind", "department")
    search_fields = ("number", "address", "description", "channel_detail")
    list_select_related = ("service_type", "department")
    date_hierarchy = "created_at"
    inlines = [RequestEventInline]
    # The read-only page still builds a form: its URL field follows Django 6's default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceRequest]:
        # The list every interface shows: each role reads its own scope here too.
        requests = selectors.request_list(viewer=viewer_of(request))
        ordering = self.get_ordering(request)
        return requests.order_by(*ordering) if ordering else requests

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        service_request = self.get_object(request, unquote(object_id))
        # The page names the request's citizen: Law 25's access log says who saw it, and why.
        if service_request is not None and response.status_code == 200:
            services.access_log_requests_seen(
                actor=acting_user(request),
                service_requests=[service_request],
                purpose=None,
                context="admin",
            )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        search = request.GET.get("q", "").strip()
        # A search reads descriptions and addresses: personal data, logged as a list access.
        if search and response.status_code == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            shown = len(changelist.result_list) if changelist is not None else 0
            with translation.override(settings.LANGUAGE_CODE):
                purpose = gettext("Recherche de requêtes dans l'administration")
            services.access_list_log_record(
                actor=acting_user(request),
                purpose=purpose,
                context="admin",
                details=f"{shown} requête(s), recherche « {search} »",
            )
        return response


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "channel",
        "agent",
        "department",
        "resolved_at_first_contact",
        "duration_seconds",
    )
    list_filter = ("channel", "resolved_at_first_contact", "department")
    list_select_related = ("agent", "department")
    date_hierarchy = "created_at"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        interaction = self.get_object(request, unquote(object_id))
        # The page names the interaction's citizen: logged like a request's page.
        if interaction is not None and interaction.citizen and response.status_code == 200:
            with translation.override(settings.LANGUAGE_CODE):
                purpose = gettext("Consultation de l'interaction n° {id}").format(id=interaction.pk)
            services.access_log_record(
                actor=acting_user(request),
                citizen=interaction.citizen,
                action=AccessAction.VIEW,
                purpose=purpose,
                context="admin",
            )
        return response


# --- Settings ------------------------------------------------------------------------------------
class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    extra = 0


class SingletonAdmin(TownAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SingletonAdmin):
    inlines = [WorkingHoursInline, ClosureDayInline]


@admin.register(CrmSettings)
class CrmSettingsAdmin(SingletonAdmin):
    pass


@admin.register(StaffProfile)
class StaffProfileAdmin(TownAdmin):
    list_display = ["user", "role", "department"]
    list_filter = ["role", "department"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]


class ApiKeyForm(ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope"]


@admin.register(ApiKey)
class ApiKeyAdmin(TownAdmin):
    """Keys are created here or with create_api_key; the key itself is shown once."""

    list_display = ["name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    actions = ["revoke"]
    form = ApiKeyForm
    KEPT_FIELDS = (
        "name",
        "scope",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [*self.KEPT_FIELDS]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "scope"]
        return [*self.KEPT_FIELDS]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay: the requests they created still name them

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return
        try:
            created, key = services.api_key_create(
                actor=cast(Any, request.user), name=obj.name, scope=obj.scope
            )
        except CrmError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = created.pk
        messages.warning(
            request,
            format_html(
                "{} <code>{}</code>",
                gettext("Copiez la clé maintenant, elle ne sera plus affichée :"),
                key,
            ),
        )

    @admin.action(description=_("Révoquer les clés choisies"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(actor=acting_user(request), api_key=api_key)
        messages.success(request, gettext("Clés révoquées."))
