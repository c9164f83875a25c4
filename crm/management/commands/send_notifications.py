from __future__ import annotations

from typing import Any

from crm.outbox import notifications_send_due
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Envoie les avis dus de chaque municipalité (ou de --tenant) que leur tâche n'a pas "
        "envoyés : le filet de sécurité de la boîte d'envoi. Un avis déjà envoyé ou incertain "
        "ne l'est jamais une seconde fois. À planifier toutes les 5 minutes."
    )
    all_towns_by_default = True

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        counts = notifications_send_due()
        summary = ", ".join(f"{outcome} : {count}" for outcome, count in sorted(counts.items()))
        self.stdout.write(f"{town.slug} : {summary or 'rien à envoyer'}")
