"""SVG charts drawn on the server (pygal) made fit for a page under the Content-Security-Policy:
pygal writes inline scripts, `style` attributes and a `<style>` element, which the policy
refuses. `page_ready` removes the scripts and the style attributes (the tooltips' only use),
marks the `<style>` element for the request's nonce, and hides the chart from screen readers
(`aria-hidden`: the table beside each chart holds the same figures); `with_nonce` gives it the
request's nonce. The crm dashboards' and the billing report's charts both go through here."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

NONCE_PLACEHOLDER = 'data-relais-nonce=""'
_SCRIPT = re.compile(r"<script\b[^>]*?(?:/>|>.*?</script>)", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')


def chart_style(colors: tuple[str, ...], *, font_size: int = 13) -> Style:
    """The charts' look: white ground, the pages' text colour and font, light gridlines (never
    carrying meaning alone: the legend and the table do), no animation; `colors` each above
    4.5:1 against white (WCAG 1.4.11 asks 3:1 for graphics)."""
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#d0d5db",
        opacity="1",
        opacity_hover="1",
        transition="0s",
        colors=colors,
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        label_font_size=font_size,
        major_label_font_size=font_size,
        legend_font_size=font_size + 1,
        value_font_size=font_size,
        tooltip_font_size=font_size,
    )


def page_ready(svg: str) -> str:
    svg = _SCRIPT.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub("", svg)
    svg = svg.replace("<style", f"<style {NONCE_PLACEHOLDER}", 1)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def with_nonce(request: HttpRequest, svg: str) -> SafeString:
    nonce = escape(str(getattr(request, "csp_nonce", "")))
    return mark_safe(svg.replace(NONCE_PLACEHOLDER, f'nonce="{nonce}"', 1))  # noqa: S308  (pygal's escaped SVG)
