from __future__ import annotations

import argparse
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.demo import build_billing_demo
from onboarding.demo import DEMO_PASSWORD, build_demo


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
        # The host's charge-back of its partner: price book, account, invoices (billing).
        charge_back = build_billing_demo(operator_email=accounts[0].email)
        self.stdout.write(
            self.style.SUCCESS(
                f"Démonstration prête (mot de passe de tous les comptes : {DEMO_PASSWORD}) :"
            )
        )
        where = ""
        for account in accounts:
            if account.where != where:
                where = account.where
                self.stdout.write(f"  {account.where} — {account.url}")
            self.stdout.write(f"    {account.email:<38} {account.role}")
        self.stdout.write(
            "  Portail citoyen : l'adresse de chaque ville (réponses, /signaler/, /suivi/, "
            "/mon-compte/ pour le compte citoyen)."
        )
        self.stdout.write(
            "  Espace du personnel : /personnel/ à l'adresse de chaque ville (tableaux de bord : "
            "/personnel/tableaux-de-bord/ pour les superviseurs et les administrateurs)."
        )
        self.stdout.write(
            "  Double authentification : chaque compte (console et personnel des villes) "
            "configure un code TOTP à sa première connexion, les villes l'exigeant de tout leur "
            "personnel. Gardez une application d'authentification à portée de main."
        )
        self.stdout.write(
            f"  Console de la plateforme : {accounts[0].url}/console/ ; administration Django : "
            "/admin/ sur chaque ville."
        )
        self.stdout.write(
            f"  Facturation : la grille de prix de Laval et {charge_back.invoices} factures de "
            f"Lévis ({charge_back.paid} payée) au grand livre ; ses pages dans la console "
            "viennent ensuite (docs/billing.md)."
        )
        self.stdout.write(
            "  API : /api/docs/ sur chaque ville ; clé d'intégration : "
            "manage.py create_api_key --tenant laval --name essai --scope write"
        )
