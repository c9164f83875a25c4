from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from crm.errors import CrmError
from crm.models import ApiScope
from crm.services import api_key_create
from tenants.management.base import TenantCommand
from tenants.models import Municipality


class Command(TenantCommand):
    help = (
        "Crée une clé d'API nommée pour une intégration (Open311, API REST). La clé est "
        "affichée une seule fois, sur la dernière ligne."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--name", required=True, help="nom de l'intégration")
        parser.add_argument("--scope", choices=ApiScope.values, default=ApiScope.READ)

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        try:
            api_key, key = api_key_create(actor=None, name=options["name"], scope=options["scope"])
        except CrmError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Clé « {api_key.name} » ({api_key.get_scope_display()}) créée pour {town.name}. "
            "Conservez-la : elle ne sera plus affichée."
        )
        self.stdout.write(key)
