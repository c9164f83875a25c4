from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from crm.imports.requests import RequestImportError, RequestsImportReport, requests_import
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Importe dans une municipalité les requêtes historiques d'un fichier CSV, selon une "
        "correspondance JSON des colonnes. Tout le fichier est validé d'abord : à la moindre "
        "erreur, rien n'est importé. Voir docs/crm.md."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", help="fichier CSV (une ligne d'en-tête)")
        parser.add_argument(
            "--mapping",
            required=True,
            help="fichier JSON de correspondance (ou le JSON lui-même, entre apostrophes)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="valider et afficher le rapport sans rien écrire",
        )

    def _mapping(self, value: str) -> object:
        try:
            text = value if value.lstrip().startswith("{") else Path(value).read_text("utf-8")
        except OSError as error:
            raise CommandError(
                _("Lecture de la correspondance impossible : {error}").format(error=error)
            ) from error
        try:
            return json.loads(text)
        except ValueError as error:
            raise CommandError(
                _("La correspondance n'est pas du JSON valide : {error}.").format(error=error)
            ) from error

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        mapping = self._mapping(options["mapping"])
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(_("Lecture impossible : {error}").format(error=error)) from error
        try:
            report = requests_import(
                actor=None,
                content=content,
                mapping=mapping,
                file_name=path.name,
                dry_run=options["dry_run"],
            )
        except RequestImportError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(error.message) from error
        self._print(town, report)

    def _print(self, town: Municipality, report: RequestsImportReport) -> None:
        if report.dry_run:
            self.stdout.write(
                _("Simulation ({town}) : fichier valide, rien n'a été écrit.").format(
                    town=town.slug
                )
            )
            summary = _("{count} requête(s) seraient importée(s).")
        else:
            summary = _("{town} : {count} requête(s) importée(s).")
        self.stdout.write(summary.format(town=town.slug, count=report.imported))
        for block in report.years:
            self.stdout.write(
                _("  {year} : {count} requête(s), n° {first} à {last}").format(
                    year=block.year,
                    count=block.count,
                    first=block.first_number,
                    last=block.last_number,
                )
            )
        if report.skipped:
            self.stdout.write(
                _("{count} ligne(s) déjà importée(s), ignorée(s) (n° externes : {ids}).").format(
                    count=len(report.skipped), ids=_abridged(report.skipped)
                )
            )
        if report.ignored_columns:
            self.stdout.write(
                _("Colonnes non importées : {columns}.").format(
                    columns=", ".join(report.ignored_columns)
                )
            )


def _abridged(values: list[str], shown: int = 10) -> str:
    text = ", ".join(values[:shown])
    return text if len(values) <= shown else f"{text}, …"
