"""Forms of the workspace's busiest pages, rendered in Python.

Django renders every field through templates: the field group (`field.html`), its label, its
error list, its widget and the widget's attributes, and two more per option of a `<select>`.
On the queue page, with its filters, bulk actions and saved views, that was a third of the
page's time. These classes write the same markup directly: `PlainForm` (its fields' groups),
`PlainSelect`, `PlainTextInput`, `PlainHiddenInput`, `PlainDateInput`. Radio buttons and
checkbox lists (fieldsets) keep Django's templates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.forms.widgets import Input
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


class PlainSelect(forms.Select):
    """`forms.Select`, same markup (attributes, option groups, the selected option)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), flatatt(o["attrs"]), o["label"]) for o in options),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
                if group_name
                else rendered
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            mark_safe("".join(groups)),  # noqa: S308  (each part escaped by format_html)
        )


class _PlainInput(Input):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            format_html(' value="{}"', str(shown)) if shown is not None else "",
            flatatt(widget["attrs"]),
        )


class PlainTextInput(_PlainInput, forms.TextInput):
    pass


class PlainHiddenInput(_PlainInput, forms.HiddenInput):
    pass


class PlainDateInput(_PlainInput, forms.DateInput):
    """A date picker (`type="date"`, ISO values)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PlainBoundField(BoundField):
    """`as_field_group()` as Django's `field.html` writes it for a field without a fieldset:
    the label (with the form's suffix), the help text, the errors, then the widget (which
    `as_widget` describes by the help text and errors, as Django does)."""

    def as_field_group(self) -> SafeString:
        if self.field.widget.use_fieldset:
            return super().as_field_group()
        parts: list[str] = []
        if self.label:
            parts.append(self._label())
        if self.help_text:
            parts.append(
                format_html(
                    '<div class="helptext"{}>{}</div>',
                    format_html(' id="{}_helptext"', self.auto_id) if self.auto_id else "",
                    mark_safe(self.help_text),  # noqa: S308  (Django's template marks it safe too)
                )
            )
        if self.errors:
            parts.append(
                format_html(
                    '<ul class="errorlist"{}>{}</ul>',
                    format_html(' id="{}_error"', self.auto_id) if self.auto_id else "",
                    format_html_join("", "<li>{}</li>", ((error,) for error in self.errors)),
                )
            )
        parts.append(str(self))
        return mark_safe("\n".join(parts))  # noqa: S308  (each part escaped above)

    def _label(self) -> SafeString:
        contents = conditional_escape(self.label)
        suffix = (
            self.field.label_suffix
            if self.field.label_suffix is not None
            else self.form.label_suffix
        )
        if suffix and contents and contents[-1] not in gettext(":?.!"):
            contents = format_html("{}{}", contents, suffix)
        target = self.id_for_label
        return format_html(
            "<label{}>{}</label>", format_html(' for="{}"', target) if target else "", contents
        )


class PlainForm(forms.Form):
    """A form whose fields render with `PlainBoundField`."""

    bound_field_class = PlainBoundField
