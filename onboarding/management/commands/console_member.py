from __future__ import annotations

import argparse
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from onboarding.models import ConsoleRole
from onboarding.services import console_member_invite


class Command(BaseCommand):
    help = (
        "Donne accès à la console de la plateforme (opérateur ou spécialiste de l'implantation) "
        "et envoie par courriel le lien pour choisir un mot de passe."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=ConsoleRole.values, default=ConsoleRole.OPERATOR)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member = console_member_invite(email=options["email"], role=options["role"], actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"Invitation envoyée à {member.user.email} ({member.get_role_display()})."
        )
