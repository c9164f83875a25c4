from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from onboarding.services import rollup_refresh


class Command(BaseCommand):
    help = (
        "Recalcule l'activité de chaque municipalité (personnel, requêtes du mois, dernière "
        "activité) pour l'accueil de la console. À planifier, p. ex. toutes les 15 minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = rollup_refresh()
        self.stdout.write(f"{count} municipalité(s) recalculée(s).")
