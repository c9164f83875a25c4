from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.archive import town_restore
from tenants.errors import TenancyError
from tenants.services import town_url


class Command(BaseCommand):
    help = "Restaure une archive de municipalité dans une nouvelle municipalité (nouveau schéma)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input", required=True, help="archive écrite par export_tenant")
        parser.add_argument("--slug", required=True, help="identifiant de la nouvelle municipalité")
        parser.add_argument("--domain", required=True, help="son nom d'hôte")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            town, summary = town_restore(
                archive_path=Path(options["input"]), slug=options["slug"], domain=options["domain"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except TenancyError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{summary.rows} lignes et {summary.files} fichier(s) restaurés.")
        self.stdout.write(town_url(town))
