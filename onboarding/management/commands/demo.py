from __future__ import annotations

import argparse
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from onboarding.demo import build_demo


class Command(BaseCommand):
    help = "Crée (ou remet à l'état de démonstration) la plateforme, Laval et Lévis."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="Port affiché dans les adresses (défaut : $PORT ou 8000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "La démonstration crée des comptes aux mots de passe connus : "
                "elle ne s'exécute qu'avec DEBUG=1."
            )
        accounts = build_demo(port=options["port"])
        self.stdout.write(self.style.SUCCESS("Démonstration prête :"))
        for account in accounts:
            self.stdout.write(
                f"  {account.where:<16} {account.url:<32} {account.email} / {account.password}"
            )
        self.stdout.write("  Espace du personnel : ajoutez /admin/ à l'adresse de chaque ville.")
        self.stdout.write(
            f"  Console de la plateforme : {accounts[0].url}/console/ (la double "
            "authentification s'active à la première connexion)."
        )
        self.stdout.write(
            "  API : /api/docs/ sur chaque ville ; clé d'intégration : "
            "manage.py create_api_key --tenant laval --name essai --scope write"
        )
