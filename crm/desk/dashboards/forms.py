"""The dashboards' choices: the period shown, and which monthly report to open. Both are read
from the address (GET): nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.selectors import PeriodKind

EARLIEST = dt.date(2000, 1, 1)


class ErrorsBesideFields(forms.Form):
    """A field in error says so (`aria-invalid`) and points to its message and help (the ids
    of templates/desk/dashboards/_field.html)."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            described = [f"{bound.auto_id}-erreur"]
            if self.fields[name].help_text:
                described.append(f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs |= {
                "aria-invalid": "true",
                "aria-describedby": " ".join(described),
            }


class PeriodForm(ErrorsBesideFields):
    period = forms.ChoiceField(
        label=_("Période"),
        choices=[(PeriodKind.MONTH.value, _("Mois")), (PeriodKind.WEEK.value, _("Semaine"))],
        required=False,
        error_messages={"invalid_choice": _("Choisissez « Mois » ou « Semaine ».")},
    )
    date = forms.DateField(
        label=_("Un jour de la période"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Vide : la période en cours."),
        error_messages={"invalid": _("Entrez une date au format AAAA-MM-JJ.")},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("date")
        if day is not None and day > self.today:
            raise forms.ValidationError(_("Choisissez aujourd'hui ou un jour passé."))
        if day is not None and day < EARLIEST:
            raise forms.ValidationError(_("Choisissez un jour à partir de l'an 2000."))
        return day

    def kind(self) -> PeriodKind:
        return PeriodKind(self.cleaned_data.get("period") or PeriodKind.MONTH)

    def day(self) -> dt.date:
        return self.cleaned_data.get("date") or self.today


class ReportForm(ErrorsBesideFields):
    """A month among the last twelve and a department the viewer reads."""

    month = forms.ChoiceField(label=_("Mois"))
    department = forms.ChoiceField(label=_("Service"))

    def __init__(
        self,
        *args: Any,
        months: list[tuple[str, str]],
        departments: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["month"]).choices = months
        cast(forms.ChoiceField, self.fields["department"]).choices = departments
        self.fields["month"].error_messages["invalid_choice"] = _(
            "Choisissez un des douze derniers mois."
        )
        self.fields["department"].error_messages["invalid_choice"] = _(
            "Choisissez un service de la liste."
        )
