"""The base of management commands that act on towns: `--tenant <slug>` or every live town."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from tenants.models import Municipality


class TenantCommand(BaseCommand):
    """Runs `handle_tenant` inside each selected town's schema.

    `--tenant <slug>` selects one town; without it, `all_towns_by_default` decides between every
    town that is not archived and an error asking for `--tenant`.
    """

    all_towns_by_default = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="identifiant de la municipalité")

    def towns(self, slug: str | None) -> list[Municipality]:
        if slug:
            town = Municipality.objects.filter(slug=slug).first()
            if town is None:
                raise CommandError(f"Aucune municipalité n'a l'identifiant « {slug} ».")
            return [town]
        if not self.all_towns_by_default:
            raise CommandError("Précisez la municipalité avec --tenant <identifiant>.")
        return list(Municipality.objects.exclude(status=Municipality.Status.ARCHIVED))

    def handle(self, *args: Any, **options: Any) -> None:
        for town in self.towns(options.get("tenant")):
            with schema_context(town.schema_name):
                self.handle_tenant(town, **options)

    def handle_tenant(self, town: Municipality, **options: Any) -> None:
        raise NotImplementedError
