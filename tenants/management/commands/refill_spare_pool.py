from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.provisioning import spare_pool_refill


class Command(BaseCommand):
    help = (
        "Crée les schémas de réserve qui manquent (migrations comprises) pour que la mise en "
        "service d'une ville reste instantanée. À lancer après un déploiement ou par cron."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=None,
            help=f"taille visée (défaut : {settings.RELAIS_SPARE_POOL_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        created = spare_pool_refill(size=options["size"])
        self.stdout.write(f"{created} schéma(s) de réserve créé(s).")
