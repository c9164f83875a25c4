from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from crm.errors import CrmError
from crm.management.lookups import citizen_by_id, staff_member
from crm.privacy import citizen_export
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Exporte en JSON tout ce que la municipalité détient sur une personne (fiche, fiches "
        "fusionnées, consentements, requêtes et leur historique, interactions, compte, journal "
        "des accès). L'exportation est inscrite au journal des accès avec son motif."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--citizen", type=int, required=True, help="numéro de la fiche")
        parser.add_argument("--output", required=True, help="fichier .json à écrire")
        parser.add_argument(
            "--purpose",
            required=True,
            help="motif, inscrit au journal des accès (p. ex. « Demande d'accès du 3 mars »)",
        )
        parser.add_argument("--by", help="courriel du membre du personnel qui fait la demande")

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        citizen = citizen_by_id(options["citizen"])
        try:
            document = citizen_export(
                actor=staff_member(options.get("by")),
                citizen=citizen,
                purpose=options["purpose"],
                context="commande",
            )
        except CrmError as error:
            raise CommandError(error.message) from error
        output = Path(options["output"])
        # Personal data: readable by its owner only, like the towns' archives.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as target:
            json.dump(document, target, ensure_ascii=False, indent=2)
        self.stdout.write(
            f"{town.slug} : fiche n° {document['citizen']['id']}, "
            f"{len(document['requests'])} requête(s) → {output}"
        )
