"""The cost-recovery report's chart: what the partners were invoiced and what they paid, added
up month after month, beside the declared investment (pygal, made fit for the page by
shared_config.svg; the table beside it holds the same figures)."""

from __future__ import annotations

import pygal
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from billing.money import money
from billing.selectors import RecoveryReport
from shared_config.svg import chart_style, page_ready, with_nonce

# Blue for collected, grey for invoiced, dark red for the investment: each above 4.5:1 on white.
STYLE = chart_style(("#00558c", "#5f6b7a", "#8a1c1c"), font_size=12)


def recovery_chart(request: HttpRequest, report: RecoveryReport) -> SafeString:
    chart = pygal.Line(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        tooltips=False,
        width=720,
        height=360,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        show_dots=len(report.months) <= 12,  # a short history: its points, or nothing shows
        dots_size=4,
        x_label_rotation=0,
        show_minor_x_labels=False,
        margin=12,
        value_formatter=lambda cents: money(int(cents)),
    )
    chart.x_labels = [f"{row.month:%Y-%m}" for row in report.months]
    chart.x_labels_major_count = 6
    chart.add(_("Encaissé (cumul)"), [row.collected_total_cents for row in report.months])
    chart.add(_("Facturé (cumul)"), [row.invoiced_total_cents for row in report.months])
    chart.add(_("Investissement déclaré"), [report.declared_cents for _row in report.months])
    return with_nonce(request, page_ready(chart.render(is_unicode=True)))
