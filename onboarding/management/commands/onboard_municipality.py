from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.errors import CrmError
from onboarding.errors import OnboardingError
from onboarding.services import municipality_onboard
from tenants.errors import TenancyError
from tenants.models import Municipality
from tenants.provisioning import spare_pool_refill
from tenants.services import town_url


class Command(BaseCommand):
    help = (
        "Met en service une ville partenaire d'une ville hôte, copie son catalogue et sa banque "
        "d'information, invite son administrateur et affiche son adresse."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="nom officiel, p. ex. « Ville de Lévis »")
        parser.add_argument("--slug", required=True, help="identifiant (sous-domaine)")
        parser.add_argument("--domain", required=True, help="nom d'hôte, p. ex. levis.localhost")
        parser.add_argument(
            "--from", dest="host", required=True, help="identifiant de la ville hôte"
        )
        parser.add_argument("--all-catalog", action="store_true", help="copier tout le catalogue")
        parser.add_argument(
            "--service-types", default="", help="codes des types à copier, séparés par des virgules"
        )
        parser.add_argument(
            "--no-faq", action="store_true", help="ne pas copier la banque d'information"
        )
        parser.add_argument(
            "--department-map",
            default="{}",
            help='JSON {"code hôte": "code partenaire"} pour renommer ou fusionner des services',
        )
        parser.add_argument(
            "--region", help="code de région administrative (défaut : celle de l'hôte)"
        )
        parser.add_argument("--population", type=int)
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--privacy-officer-name", default="Responsable de l'accès à l'information"
        )
        parser.add_argument("--privacy-officer-email", help="défaut : vie-privee@<domaine>")
        parser.add_argument("--admin-email", default="", help="administrateur invité par courriel")

    def handle(self, *args: Any, **options: Any) -> None:
        host = Municipality.objects.filter(slug=options["host"]).first()
        if host is None:
            raise CommandError(f"Aucune municipalité n'a l'identifiant « {options['host']} ».")
        codes = [c.strip() for c in options["service_types"].split(",") if c.strip()]
        if not options["all_catalog"] and not codes:
            raise CommandError("Choisissez --all-catalog ou --service-types <codes>.")
        try:
            department_map = json.loads(options["department_map"])
        except json.JSONDecodeError as error:
            raise CommandError(f"--department-map n'est pas du JSON valide : {error}") from error
        if not isinstance(department_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in department_map.items()
        ):
            raise CommandError('--department-map attend un objet {"code hôte": "code partenaire"}.')
        try:
            result = municipality_onboard(
                name=options["name"],
                slug=options["slug"],
                domain=options["domain"],
                host=host,
                region=options["region"] or host.region,
                population=options["population"],
                display_name=options["display_name"],
                privacy_officer_name=options["privacy_officer_name"],
                privacy_officer_email=options["privacy_officer_email"]
                or f"vie-privee@{options['domain']}",
                department_map=department_map,
                service_type_codes=None if options["all_catalog"] else codes,
                include_faq=not options["no_faq"],
                administrator_email=options["admin_email"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except (TenancyError, CrmError, OnboardingError) as error:
            raise CommandError(error.message) from error
        town = result.municipality
        self.stdout.write(f"Mise en service : {result.provisioning_ms:.0f} ms")
        if result.clone is not None:
            details = ", ".join(f"{name} {count}" for name, count in result.clone.counts.items())
            self.stdout.write(
                f"Copie du catalogue : {result.clone.milliseconds:.0f} ms ({details})"
            )
        if options["admin_email"]:
            self.stdout.write(f"Invitation envoyée à {options['admin_email']}")
        # This process ends here: refill the spare pool now rather than in a thread it would kill.
        refilled = spare_pool_refill()
        if refilled:
            self.stdout.write(f"Réserve de schémas : {refilled} créé(s)")
        self.stdout.write(town_url(town))
