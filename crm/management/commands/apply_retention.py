from __future__ import annotations

import argparse
from typing import Any

from crm.privacy import retention_apply
from crm.tasks import apply_retention
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Applique la durée de conservation de chaque municipalité (ou de --tenant) : les "
        "requêtes terminées depuis plus longtemps perdent leurs renseignements personnels et "
        "les fiches sans activité sont anonymisées (Loi 25). À planifier chaque jour; "
        "peut être relancée sans effet de plus."
    )
    all_towns_by_default = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="confier le travail au travailleur de tâches (db_worker), une tâche par ville",
        )

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        if options["enqueue"]:
            result = apply_retention.enqueue(schema_name=town.schema_name)
            self.stdout.write(f"{town.slug} : tâche mise en file ({result.id})")
            return
        done = retention_apply()
        self.stdout.write(
            f"{town.slug} : {done.requests} requête(s) et {done.interactions} interaction(s) "
            f"épurées, {done.citizens} fiche(s) anonymisée(s) "
            f"(terminées avant le {done.cutoff:%Y-%m-%d})"
        )
