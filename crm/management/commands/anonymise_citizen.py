from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from crm.errors import CrmError
from crm.management.lookups import citizen_by_id, staff_member
from crm.privacy import anonymisation_preview, citizen_anonymise
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Anonymise une personne, de façon irréversible : sa fiche et ses fiches fusionnées, "
        "son compte, et les textes qui l'identifient dans ses requêtes, leur historique et ses "
        "interactions. Les requêtes restent pour les statistiques. Inscrit au journal des accès."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--citizen", type=int, required=True, help="numéro de la fiche")
        parser.add_argument("--reason", required=True, help="motif, inscrit au journal des accès")
        parser.add_argument("--by", help="courriel du membre du personnel qui fait la demande")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="ne pas demander de confirmation",
        )

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        citizen = citizen_by_id(options["citizen"])
        actor = staff_member(options.get("by"))
        if options["interactive"]:
            preview = anonymisation_preview(citizen=citizen)
            answer = input(
                f"Anonymiser la fiche n° {preview.citizen_id} ({preview.records} fiche(s), "
                f"{preview.requests} requête(s), {preview.interactions} interaction(s)) de "
                f"{town.name} ? C'est irréversible. Tapez « oui » pour confirmer : "
            )
            if answer.strip().lower() != "oui":
                raise CommandError("Anonymisation abandonnée : rien n'a changé.")
        try:
            result = citizen_anonymise(
                actor=actor, citizen=citizen, reason=options["reason"], context="commande"
            )
        except CrmError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{town.slug} : fiche n° {result.citizen_id} anonymisée ({result.records} fiche(s), "
            f"{result.requests} requête(s), {result.events} événement(s), "
            f"{result.interactions} interaction(s), compte : {result.account})"
        )
