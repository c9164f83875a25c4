"""`manage.py create_host_town`: the first town of an installation, the host city."""

from __future__ import annotations

import argparse
import smtplib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.errors import TenancyError
from tenants.models import Municipality, Region
from tenants.services import administrator_invite, municipality_create, town_url


class Command(BaseCommand):
    help = (
        "Crée la ville hôte d'une installation (en service), invite son administrateur par "
        "courriel et affiche son adresse. Les villes partenaires se créent ensuite depuis la "
        "console ou avec onboard_municipality."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="nom officiel, p. ex. « Ville de Laval »")
        parser.add_argument("--slug", required=True, help="identifiant (sous-domaine)")
        parser.add_argument("--domain", required=True, help="nom d'hôte, p. ex. laval.exemple.ca")
        parser.add_argument(
            "--region", required=True, choices=Region.values, help="code de région administrative"
        )
        parser.add_argument("--population", type=int)
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--privacy-officer-name", default="Responsable de l'accès à l'information"
        )
        parser.add_argument("--privacy-officer-email", help="défaut : vie-privee@<domaine>")
        parser.add_argument(
            "--admin-email", required=True, help="premier administrateur, invité par courriel"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # The invitation leaves once the town is committed: a mail server that refuses it
            # leaves the town in place, and the way to invite again is said below.
            with transaction.atomic():
                town = municipality_create(
                    name=options["name"],
                    slug=options["slug"],
                    domain=options["domain"],
                    region=options["region"],
                    kind=Municipality.Kind.HOST,
                    status=Municipality.Status.LIVE,
                    population=options["population"],
                    display_name=options["display_name"],
                    privacy_officer_name=options["privacy_officer_name"],
                    privacy_officer_email=options["privacy_officer_email"]
                    or f"vie-privee@{options['domain']}",
                )
                administrator_invite(municipality=town, email=options["admin_email"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except TenancyError as error:
            raise CommandError(error.message) from error
        except (OSError, smtplib.SMTPException) as error:
            town = Municipality.objects.get(slug=options["slug"])
            self.stdout.write(f"Ville hôte créée : {town.name}")
            self.stdout.write(town_url(town))
            raise CommandError(
                f"L'invitation à {options['admin_email']} n'a pas pu partir ({error}). Vérifiez "
                "EMAIL_URL ; l'administrateur choisit ensuite son mot de passe avec « Mot de "
                f"passe oublié » sur {town_url(town, '/comptes/password/reset/')}."
            ) from error
        self.stdout.write(f"Ville hôte créée : {town.name}")
        self.stdout.write(f"Invitation envoyée à {options['admin_email']}")
        self.stdout.write(town_url(town))
