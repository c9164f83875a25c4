from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

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
        parser.add_argument(
            "--create-department",
            metavar="NOM",
            help="crée le service municipal --department sous ce nom s'il n'existe pas encore",
        )
        parser.add_argument("--language", choices=["fr", "en"], default="fr")

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        try:
            content = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"Lecture impossible : {error}") from error
        # A department created for the import goes with it: a refused document leaves none.
        with transaction.atomic():
            department = self._department(town, options["department"], options["create_department"])
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

    def _department(self, town: Municipality, code: str, new_name: str | None) -> Department:
        department = Department.objects.filter(code=code).first()
        if department is not None:
            return department
        if not new_name:
            known = ", ".join(Department.objects.values_list("code", flat=True)) or "aucun"
            raise CommandError(
                f"Le service « {code} » n'existe pas à {town.slug} (services : {known}). "
                "--create-department <nom> le crée."
            )
        department = Department(code=code, name_fr=new_name)
        try:
            department.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        department.save()
        self.stdout.write(f"{town.slug} : service municipal « {new_name} » créé.")
        return department
