from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tenants.archive import town_export
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = "Exporte toutes les données d'une municipalité (tables et fichiers) dans une archive."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--output", required=True, help="fichier .tar.gz à écrire")

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        summary = town_export(municipality=town, output=Path(options["output"]))
        self.stdout.write(
            f"{town.slug} : {summary.rows} lignes dans {len(summary.tables)} tables, "
            f"{summary.files} fichier(s) → {options['output']}"
        )
