"""The dashboards' charts: SVG drawn on the server by pygal, placed inline in the page.

The Content-Security-Policy refuses inline scripts, style attributes and un-nonced `<style>`
elements, and pygal writes all three into its SVG. Each chart is therefore drawn without
pygal's scripts (`js=[]`, and its inline configuration script removed), without its tooltip
(the only element with a `style` attribute), and its `<style>` element carries the request's
nonce. The chart is hidden from screen readers (`aria-hidden`): the table beside it holds the
same figures.

Drawing costs a few milliseconds per chart; the same figures always give the same drawing, so
the SVG (without its nonce) is kept in a small per-process cache.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import pygal
from django.http import HttpRequest
from django.utils.safestring import SafeString

from shared_config.svg import chart_style, page_ready, with_nonce

# The one home of the charts' look: the workspace's text colour and font, the period in the
# town's blue and the period before in grey, both above 4.5:1 against white (WCAG 1.4.11 asks
# 3:1 for graphics); gridlines light, never carrying meaning alone (the legend and the table do).
CURRENT_COLOUR = "#00558c"
PREVIOUS_COLOUR = "#5f6b7a"
CHART_STYLE = chart_style((CURRENT_COLOUR, PREVIOUS_COLOUR))
WIDTH = 600
ROW_HEIGHT = 44


def _whole_ticks(largest: float) -> list[int]:
    """Counts are whole: 0 to at least `largest` in at most six steps of 1, 2, 5, 10, 20…"""
    step = 1
    while math.ceil(largest / step) > 6:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return list(range(0, step * max(1, math.ceil(largest / step)) + 1, step))


@functools.lru_cache(maxsize=256)
def _drawing(
    labels: tuple[str, ...],
    series: tuple[tuple[str, tuple[float, ...]], ...],
    percent: bool,
) -> str:
    ticks = (
        list(range(0, 101, 20))
        if percent
        else _whole_ticks(max(v for _t, vs in series for v in vs))
    )
    chart = pygal.HorizontalBar(
        style=CHART_STYLE,
        js=[],
        disable_xml_declaration=True,
        tooltips=False,
        width=WIDTH,
        height=100 + ROW_HEIGHT * max(len(labels), 1),
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        print_values=False,
        show_y_guides=False,
        truncate_label=40,
        margin=12,
        range=(0, ticks[-1]),
        y_labels=ticks,
        value_formatter=(lambda value: f"{value:.0f} %") if percent else (lambda v: f"{v:.0f}"),
    )
    # pygal draws the first label at the bottom: reversed, the chart reads like the table.
    chart.x_labels = list(reversed(labels))
    for title, values in series:
        chart.add(title, list(reversed(values)))
    return page_ready(chart.render(is_unicode=True))


def comparison_chart(
    request: HttpRequest,
    *,
    labels: Sequence[str],
    current: Sequence[float],
    previous: Sequence[float],
    current_label: str,
    previous_label: str,
    percent: bool = False,
) -> SafeString:
    """Horizontal bars of the period beside the one before, one pair per label."""
    svg = _drawing(
        tuple(str(label) for label in labels),
        (
            (str(current_label), tuple(float(v) for v in current)),
            (str(previous_label), tuple(float(v) for v in previous)),
        ),
        percent,
    )
    return with_nonce(request, svg)
