"""The daily schedule of the subscriptions billed by the ledger: a draft for each period begun
and not billed yet, for the finance team to review and issue (`docs/billing.md`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from billing.services import subscription_drafts_due


class Command(BaseCommand):
    help = (
        "Prépare un brouillon pour chaque période d'abonnement commencée et pas encore "
        "facturée (rien n'est émis)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            default=None,
            help="Le jour considéré comme aujourd'hui (AAAA-MM-JJ) ; par défaut, aujourd'hui.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["date"] or timezone.localdate()
        drafted = 0
        for outcome in subscription_drafts_due(today=today):
            period = outcome.period_start.isoformat() if outcome.period_start else "—"
            if outcome.invoice is not None:
                drafted += 1
                self.stdout.write(
                    f"{outcome.town} {period}: brouillon n° {outcome.invoice.pk} "
                    f"({outcome.invoice.total_cents} ¢)"
                )
            else:
                self.stderr.write(f"{outcome.town} {period}: {outcome.reason}")
        self.stdout.write(f"brouillons préparés : {drafted}")
