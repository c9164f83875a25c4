"""django-tenants' migrate_schemas, which also keeps the spare schemas current."""

from __future__ import annotations

from typing import Any

from django_tenants.management.commands.migrate_schemas import (
    GET_EXECUTOR_FUNCTION,
    MigrateSchemasCommand,
)
from django_tenants.migration_executors import get_executor


class Command(MigrateSchemasCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        every_tenant = self.sync_tenant and (
            not self.schema_name or self.schema_name == self.PUBLIC_SCHEMA_NAME
        )
        if not every_tenant:
            return
        from tenants.models import SpareSchema

        spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
        if spares:
            # The executor django-tenants' own command uses: the one settings name, else its
            # default (the module-level name is never None at run time, only to the checker).
            executor_class = (GET_EXECUTOR_FUNCTION or get_executor)(codename=self.executor)
            executor_class(self.args, self.options).run_migrations(tenants=spares)
