from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Municipalités")

    def ready(self) -> None:
        from tenants import routing

        routing.connect_invalidation()
