from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from crm.errors import CrmError
from crm.imports.open311_services import open311_services_import
from crm.models import Department
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Importe dans le catalogue d'une municipalité une liste de services Open311 GeoReport "
        "v2 (services.json ou services.xml, définitions des champs comprises)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", help="services.json ou services.xml")
        parser.add_argument(
            "--department", required=True, help="code du service municipal qui recevra les types"
        )
        parser.add_argument("--language", choices=["fr", "en"], default="fr")

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            known = ", ".join(Department.objects.values_list("code", flat=True)) or "aucun"
            raise CommandError(
                f"Le service « {options['department']} » n'existe pas à {town.slug} "
                f"(services : {known})."
            )
        try:
            content = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"Lecture impossible : {error}") from error
        try:
            report = open311_services_import(
                content=content, department=department, language=options["language"]
            )
        except CrmError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{town.slug} : {len(report.created)} type(s) créé(s), {len(report.updated)} mis à "
            f"jour, {report.attributes} champ(s)."
        )
