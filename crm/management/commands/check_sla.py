from __future__ import annotations

from typing import Any

from crm.services import request_check_sla
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Consigne les avertissements et dépassements d'échéance des requêtes ouvertes "
        "(toutes les municipalités, ou --tenant). À lancer toutes les quelques minutes."
    )
    all_towns_by_default = True

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        warnings, breaches = request_check_sla()
        self.stdout.write(f"{town.slug}: {warnings} avertissement(s), {breaches} dépassement(s)")
