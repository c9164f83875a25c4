from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Requêtes citoyennes")

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the API's authentication methods.
        from crm.api.rest import schema  # noqa: F401
