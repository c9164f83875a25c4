from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from tenants.errors import TenancyError
from tenants.management.base import TenantCommand
from tenants.models import Municipality
from tenants.services import municipality_delete, municipality_resume, municipality_set_status

ACTIONS = {"suspend": "suspended", "resume": "live", "archive": "archived"}


class Command(TenantCommand):
    help = (
        "Suspend, reprend, archive ou supprime une municipalité. La suppression demande une "
        "municipalité archivée, une exportation et --confirm <identifiant>."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=[*ACTIONS, "delete"])
        parser.add_argument("--confirm", default="", help="l'identifiant, retapé (suppression)")

    def handle(self, *args: Any, **options: Any) -> None:
        (town,) = self.towns(options.get("tenant"))
        try:
            if options["action"] == "delete":
                municipality_delete(municipality=town, confirmation=options["confirm"])
                self.stdout.write(f"{town.slug} : supprimée.")
                return
            if options["action"] == "resume":
                town = municipality_resume(municipality=town)
            else:
                town = municipality_set_status(municipality=town, status=ACTIONS[options["action"]])
        except TenancyError as error:
            raise CommandError(error.message) from error
        label = Municipality.Status(town.status).label
        self.stdout.write(f"{town.slug} : {label}.")
