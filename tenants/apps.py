from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Municipalités")

    def ready(self) -> None:
        from tenants import migration_recorder, routing

        routing.connect_invalidation()
        # Whether a schema has its migration table, without listing every town's tables.
        migration_recorder.install()
