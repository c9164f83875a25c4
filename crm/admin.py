"""Django admin of a town's CRM, for its municipal administrators (French first).

Writes that have rules (information bank versions, request workflow) go through the services;
timelines, interactions and the access log are read-only here. Shown on a town's host only:
the platform's schema has no CRM tables.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.errors import CrmError
from crm.models import (
    AccessLog,
    BusinessCalendar,
    Citizen,
    CitizenMerge,
    ClosureDay,
    Consent,
    CrmSettings,
    Department,
    FaqArticle,
    FaqArticleVersion,
    Interaction,
    RequestEvent,
    RoutingRule,
    Sector,
    ServiceAttribute,
    ServiceAttributeValue,
    ServiceCategory,
    ServiceRequest,
    ServiceType,
    WorkingHours,
)
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


# --- Catalog -------------------------------------------------------------------------------------
@admin.register(Department)
class DepartmentAdmin(TownAdmin):
    list_display = ("name_fr", "code", "email", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_fr", "name_en", "code")


@admin.register(Sector)
class SectorAdmin(TownAdmin):
    list_display = ("name_fr", "code")
    search_fields = ("name_fr", "code")


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
class ServiceTypeAdmin(TownAdmin):
    list_display = ("code", "name_fr", "category", "department", "kind", "is_public", "is_active")
    list_filter = ("kind", "is_public", "is_active", "category", "department")
    search_fields = ("code", "name_fr", "name_en", "keywords")
    list_select_related = ("category", "department")
    readonly_fields = ("uuid", "source_uuid", "created_at", "updated_at")
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
class FaqArticleAdmin(TownAdmin):
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
            saved = services.faq_article_update(actor=request.user, article=obj, **fields)  # type: ignore[arg-type]
        else:
            saved = services.faq_article_create(actor=request.user, **fields)  # type: ignore[arg-type]
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        form.instance = FaqArticle.objects.get(pk=form.instance.pk)
        super().save_related(request, form, formsets, change)


# --- Citizens ------------------------------------------------------------------------------------
class ConsentInline(ReadOnlyInline):
    model = Consent
    fk_name = "citizen"
    fields = ("purpose", "granted", "channel", "recorded_at", "recorded_by")
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
class CitizenAdmin(TownAdmin):
    form = CitizenForm
    list_display = ("__str__", "email", "phone", "preferred_language", "merged_into")
    search_fields = ("last_name", "first_name", "email", "phone")
    readonly_fields = ("account", "merged_into", "created_at", "updated_at")
    inlines = [ConsentInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # merged or anonymised, never deleted: requests point to it

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        citizen = self.get_object(request, object_id)
        # Logged once the page was actually shown (a refused view shows nothing).
        if citizen is not None and request.method == "GET" and response.status_code == 200:
            services.access_log_record(
                actor=request.user,  # type: ignore[arg-type]
                citizen=citizen,
                action="view",
                purpose=str(_("Consultation de la fiche dans l'administration")),
                context="admin",
            )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and response.status_code == 200:
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            shown = len(changelist.result_list) if changelist is not None else 0
            search = request.GET.get("q", "")
            services.access_list_log_record(
                actor=request.user,  # type: ignore[arg-type]
                purpose=str(_("Liste des citoyens dans l'administration")),
                context="admin",
                details=f"{shown} fiche(s)" + (f", recherche « {search} »" if search else ""),
            )
        return response

    def save_model(self, request: HttpRequest, obj: Citizen, form: ModelForm, change: bool) -> None:
        # Through the services: contact data is normalized and validated the same way everywhere.
        fields = {name: form.cleaned_data[name] for name in services.CITIZEN_FIELDS}
        if change:
            saved = services.citizen_update(actor=request.user, citizen=obj, **fields)  # type: ignore[arg-type]
        else:
            saved = services.citizen_create(actor=request.user, **fields)  # type: ignore[arg-type]
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
        "created_at",
        "sla_due_at",
    )
    list_filter = ("status", "priority", "channel", "kind", "department")
    search_fields = ("number", "address", "description")
    list_select_related = ("service_type", "department")
    date_hierarchy = "created_at"
    inlines = [RequestEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceRequest]:
        return super().get_queryset(request).select_related("service_type", "department")


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
