from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from tenants.db import connection
from tenants.models import Domain, Municipality


class SchemaScopedAdmin(admin.ModelAdmin):
    """An admin page that exists only on some hosts: the platform's, or a town's."""

    def visible_here(self) -> bool:
        raise NotImplementedError

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.visible_here() and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.visible_here() and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.visible_here() and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.visible_here() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.visible_here() and super().has_delete_permission(request, obj)


def on_platform() -> bool:
    return bool(connection.schema_name == get_public_schema_name())


class PlatformOnlyAdmin(SchemaScopedAdmin):
    """Shown only on the base domain: a town's administrators never see other towns."""

    def visible_here(self) -> bool:
        return on_platform()


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(PlatformOnlyAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A town is archived, never deleted from here: its schema holds citizens' data.
        return False

    list_display = ("name", "slug", "kind", "status", "region", "population")
    list_filter = ("kind", "status", "region")
    search_fields = ("name", "slug")
    readonly_fields = ("schema_name", "created_at", "updated_at")
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(PlatformOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)
