"""The figures as the pages show them: tables of the period beside the one before (read by
screen readers, printed), each with its chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.http import HttpRequest
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.desk.dashboards.charts import comparison_chart
from crm.selectors import (
    CountRow,
    DashboardFigures,
    Period,
    PeriodKind,
    Rate,
    RateRow,
    Satisfaction,
)

# A chart shows the busiest rows; its table shows them all.
CHART_ROWS = 10
NOTHING = "—"


@dataclass(frozen=True)
class Row:
    label: str
    current: str
    previous: str


@dataclass(frozen=True)
class Block:
    """A titled table (and chart) of one figure."""

    key: str
    title: str
    column: str
    rows: list[Row]
    chart: SafeString | None = None
    note: str = ""
    empty: str = field(default="")


def period_label(period: Period, *, now: datetime | None = None) -> str:
    if period.kind == PeriodKind.MONTH:
        label = date_format(period.first_day, "F Y")
    else:
        label = _("semaine du {first} au {last}").format(
            first=date_format(period.first_day, "j F"), last=date_format(period.last_day, "j F Y")
        )
    if now is not None and period.start <= now < period.end:
        return _("{period} (en cours)").format(period=label)
    return label


def count(value: int) -> str:
    return number_format(value, force_grouping=True)


def percent(rate: Rate) -> str:
    share = rate.share
    if share is None:
        return NOTHING
    return _("{percent} % ({part} sur {whole})").format(
        percent=number_format(round(share * 100)), part=count(rate.part), whole=count(rate.whole)
    )


def duration(value: timedelta | None) -> str:
    if value is None:
        return NOTHING
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("{days} j {hours} h").format(days=days, hours=hours)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)


def satisfaction(value: Satisfaction) -> str:
    if value.average is None:
        return NOTHING
    return ngettext(
        "{average} sur 5 ({answers} avis)", "{average} sur 5 ({answers} avis)", value.answers
    ).format(
        average=number_format(round(value.average, 1), decimal_pos=1), answers=count(value.answers)
    )


def _share(rate: Rate) -> float:
    return round((rate.share or 0) * 100, 1)


@dataclass(frozen=True)
class Columns:
    current: str
    previous: str


def summary(figures: DashboardFigures) -> list[Row]:
    return [
        Row(_("Requêtes reçues"), count(figures.created.current), count(figures.created.previous)),
        Row(
            _("Requêtes ouvertes à la fin de la période"),
            count(figures.backlog.current),
            count(figures.backlog.previous),
        ),
        Row(
            _("Requêtes résolues (hors premier contact)"),
            count(figures.resolved.current),
            count(figures.resolved.previous),
        ),
        Row(
            _("Résolues dans le délai visé"),
            percent(figures.sla_compliance.current),
            percent(figures.sla_compliance.previous),
        ),
        Row(
            _("Délai médian de résolution"),
            duration(figures.median_resolution.current),
            duration(figures.median_resolution.previous),
        ),
        Row(
            _("Règlement au premier contact"),
            percent(figures.first_contact.current),
            percent(figures.first_contact.previous),
        ),
        Row(
            _("Satisfaction des citoyens (sondage après résolution)"),
            satisfaction(figures.satisfaction.current),
            satisfaction(figures.satisfaction.previous),
        ),
    ]


def _count_block(
    request: HttpRequest,
    columns: Columns,
    *,
    key: str,
    title: str,
    column: str,
    rows: list[CountRow],
    note: str = "",
) -> Block:
    charted = rows[:CHART_ROWS]
    chart = (
        comparison_chart(
            request,
            labels=[row.label for row in charted],
            current=[row.current for row in charted],
            previous=[row.previous for row in charted],
            current_label=columns.current,
            previous_label=columns.previous,
        )
        if charted
        else None
    )
    return Block(
        key,
        title,
        column,
        [Row(row.label, count(row.current), count(row.previous)) for row in rows],
        chart,
        note,
        _("Aucune requête dans ces deux périodes."),
    )


def _rate_block(
    request: HttpRequest,
    columns: Columns,
    *,
    key: str,
    title: str,
    column: str,
    rows: list[RateRow],
    note: str = "",
    charted: bool = True,
) -> Block:
    shown = rows[:CHART_ROWS]
    chart = (
        comparison_chart(
            request,
            labels=[row.label for row in shown],
            current=[_share(row.current) for row in shown],
            previous=[_share(row.previous) for row in shown],
            current_label=columns.current,
            previous_label=columns.previous,
            percent=True,
        )
        if shown and charted
        else None
    )
    return Block(
        key,
        title,
        column,
        [Row(row.label, percent(row.current), percent(row.previous)) for row in rows],
        chart,
        note,
        _("Rien à mesurer dans ces deux périodes."),
    )


def blocks(
    request: HttpRequest, figures: DashboardFigures, columns: Columns, *, town_wide: bool
) -> list[Block]:
    """The dashboard's figures, in the order of the page. `town_wide`: with the comparisons
    between departments (a department's own report leaves them out)."""
    found = [
        _count_block(
            request,
            columns,
            key="types",
            title=_("Requêtes reçues par type"),
            column=_("Type de requête"),
            rows=figures.by_service_type,
            note=_(
                "Le graphique montre les {n} types les plus demandés ; le tableau, tous."
            ).format(n=CHART_ROWS),
        ),
        _count_block(
            request,
            columns,
            key="canaux",
            title=_("Requêtes reçues par canal"),
            column=_("Canal"),
            rows=figures.by_channel,
        ),
    ]
    if town_wide:
        found.append(
            _count_block(
                request,
                columns,
                key="services",
                title=_("Requêtes reçues par service"),
                column=_("Service"),
                rows=figures.by_department,
            )
        )
    found += [
        _count_block(
            request,
            columns,
            key="arrerages",
            title=_("Requêtes ouvertes à la fin de la période, selon leur âge"),
            column=_("Âge"),
            rows=figures.backlog_age,
            note=_("Une requête est ouverte tant qu'elle n'est ni résolue, ni fermée, ni annulée."),
        ),
    ]
    if town_wide:
        found.append(
            _rate_block(
                request,
                columns,
                key="delais",
                title=_("Requêtes résolues dans le délai visé, par service"),
                column=_("Service"),
                rows=figures.resolution_by_department,
                note=_("Requêtes résolues pendant la période et qui avaient un délai visé."),
            )
        )
    found += [
        _rate_block(
            request,
            columns,
            key="premier-contact-agents",
            title=_("Règlement au premier contact, par agent"),
            column=_("Agent"),
            rows=figures.first_contact_by_agent,
            note=_("Part des interactions réglées au premier contact."),
        ),
        _rate_block(
            request,
            columns,
            key="premier-contact-canaux",
            title=_("Règlement au premier contact, par canal"),
            column=_("Canal"),
            rows=figures.first_contact_by_channel,
        ),
    ]
    if town_wide:
        found.append(
            _rate_block(
                request,
                columns,
                key="premier-contact-services",
                title=_("Règlement au premier contact, par service"),
                column=_("Service"),
                rows=figures.first_contact_by_department,
                charted=False,
            )
        )
    return found


def last_months(today: date, count: int = 12) -> list[date]:
    """The first day of this month and of the months before, newest first."""
    months, day = [], today.replace(day=1)
    for _index in range(count):
        months.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return months
