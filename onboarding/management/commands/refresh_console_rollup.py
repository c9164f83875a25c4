from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from onboarding.services import rollup_refresh
from onboarding.tasks import refresh_console_rollup


class Command(BaseCommand):
    help = (
        "Recalcule l'activité de chaque municipalité (personnel, requêtes du mois, dernière "
        "activité) pour l'accueil de la console. À planifier, p. ex. toutes les 15 minutes."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="confier le calcul au travailleur de tâches (db_worker) au lieu de le faire ici",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = refresh_console_rollup.enqueue()
            self.stdout.write(f"Tâche mise en file : {result.id}")
            return
        count = rollup_refresh()
        self.stdout.write(f"{count} municipalité(s) recalculée(s).")
