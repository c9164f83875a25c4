"""The queue's forms: a bulk action on the checked rows, and saving or deleting a view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.desk.once import SubmissionField
from crm.desk.plain_forms import PlainForm, PlainHiddenInput, PlainSelect, PlainTextInput
from crm.models import Department, RequestStatus
from crm.services import BULK_MAX

ASSIGN = "assign"
CHANGE_STATUS = "status"
NUMBER_MAX = 16


class NumbersField(forms.Field):
    """The numbers of the checked rows (checkboxes named `requests`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        return [str(v).strip() for v in values if str(v).strip()]

    def validate(self, value: list[str]) -> None:
        if not value:
            raise forms.ValidationError(_("Cochez au moins une requête."), code="required")
        if len(value) > BULK_MAX:
            raise forms.ValidationError(
                _("Une action groupée porte sur {limit} requêtes au plus.").format(limit=BULK_MAX)
            )
        if any(len(v) > NUMBER_MAX for v in value):
            raise forms.ValidationError(_("Un numéro de requête est illisible."))


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.email


class BulkForm(PlainForm):
    """A bulk assignment (department and/or person) or status change of the checked rows,
    said by the button pressed (`action`). Only the choices the viewer may use are offered:
    a supervisor's own department and its people; the statuses the rows shown can reach."""

    submission = SubmissionField()
    requests = NumbersField(required=False)
    action = forms.ChoiceField(
        choices=[(ASSIGN, _("Assigner")), (CHANGE_STATUS, _("Changer le statut"))],
        widget=PlainHiddenInput,
    )
    department = forms.ChoiceField(label=_("Service"), required=False, widget=PlainSelect)
    assignee = AssigneeChoiceField(
        label=_("Personne"), queryset=None, required=False, empty_label=_("—"), widget=PlainSelect
    )
    status = forms.ChoiceField(label=_("Nouveau statut"), required=False, widget=PlainSelect)
    message = forms.CharField(
        label=_("Message au citoyen (facultatif)"),
        required=False,
        max_length=4000,
        widget=PlainTextInput,
    )

    def __init__(
        self,
        *args: Any,
        departments: Iterable[Department],
        assignees: Any,
        statuses: Iterable[str],
        may_assign: bool,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "groupe-%s")  # unique ids beside the filters' fields
        super().__init__(*args, **kwargs)
        self.may_assign = may_assign
        department = cast(forms.ChoiceField, self.fields["department"])
        department.choices = [("", _("— inchangé —")), *((d.code, str(d)) for d in departments)]
        assignee = cast(AssigneeChoiceField, self.fields["assignee"])
        assignee.queryset = assignees
        assignee.empty_label = _("— inchangée —")
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = [("", _("— choisir —")), *((s, RequestStatus(s).label) for s in statuses)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == CHANGE_STATUS and not data.get("status"):
            self.add_error("status", _("Choisissez le nouveau statut."))
        if data.get("action") == ASSIGN and not (data.get("department") or data.get("assignee")):
            self.add_error("department", _("Choisissez un service ou une personne."))
        if "requests" not in self.errors and not data.get("requests"):
            self.add_error("requests", _("Cochez au moins une requête."))
        return data


class SavedViewForm(PlainForm):
    submission = SubmissionField()
    name = forms.CharField(label=_("Nom de la vue"), max_length=80)
    query = forms.CharField(required=False, max_length=1000, widget=PlainHiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "vue-%s")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"


class DeleteForm(PlainForm):
    submission = SubmissionField()
