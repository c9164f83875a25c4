"""The request page's forms. They parse; the services decide (an unknown status, a move the
workflow forbids, an empty note, a file that is not an image or a PDF) and their refusal is
shown next to the field it names (`refusal_show`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.desk.once import SubmissionField
from crm.errors import CrmError
from crm.models import Department, RequestStatus, ServiceRequest
from tenants.accounts.models import User


def refusal_show(form: forms.Form, error: CrmError) -> None:
    """A service's refusal, next to the field it names (or at the form's top)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class StatusForm(forms.Form):
    prefix = "statut"
    # Offered: the moves the workflow allows from the request's status; request_change_status
    # checks whatever is sent (a stale page, a forged value).
    status = forms.CharField(
        label=_("Nouveau statut"),
        max_length=16,
        widget=forms.Select,
        error_messages={"required": _("Choisissez le nouveau statut.")},
    )
    message = forms.CharField(
        label=_("Message au citoyen (facultatif)"),
        help_text=_("Visible par le citoyen dans le suivi de sa requête, avec le nouveau statut."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    submission = SubmissionField()

    def __init__(self, *args: Any, targets: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.choices = [("", _("— choisissez —"))] + [
            (target, RequestStatus(target).label) for target in targets
        ]


class CancelForm(forms.Form):
    prefix = "annulation"
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        help_text=_("Visible par le citoyen."),
        required=False,  # request_cancel says it is missing, in its own words
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    submission = SubmissionField()


class AssignForm(forms.Form):
    prefix = "assignation"
    department = forms.CharField(
        label=_("Service responsable"), required=False, max_length=40, widget=forms.Select
    )
    assignee = forms.CharField(
        label=_("Personne responsable"), required=False, max_length=254, widget=forms.Select
    )
    submission = SubmissionField()

    def __init__(
        self,
        *args: Any,
        service_request: ServiceRequest,
        departments: Iterable[Department],
        staff: Iterable[User],
        **kwargs: Any,
    ) -> None:
        kwargs["initial"] = {
            "department": service_request.department.code,
            "assignee": service_request.assignee.email if service_request.assignee else "",
        }
        super().__init__(*args, **kwargs)
        self.fields["department"].widget.choices = [("", _("— inchangé —"))] + [
            (department.code, str(department)) for department in departments
        ]
        self.fields["assignee"].widget.choices = [("", _("— inchangée —"))] + [
            (user.email, user.get_full_name() or user.email) for user in staff
        ]


class NoteForm(forms.Form):
    """An internal note or a public reply (`public`): the same field, labelled for what it is."""

    message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    submission = SubmissionField()

    def __init__(self, *args: Any, public: bool, **kwargs: Any) -> None:
        kwargs["prefix"] = "reponse" if public else "note"
        super().__init__(*args, **kwargs)
        self.fields["message"].label = (
            _("Réponse publique (vue par le citoyen)")
            if public
            else _("Note interne (personnel seulement)")
        )
        self.fields["message"].help_text = (
            _("Le citoyen verra cette réponse dans le suivi de sa requête.")
            if public
            else _("Jamais montrée au citoyen.")
        )


class AttachForm(forms.Form):
    prefix = "piece"
    file = forms.FileField(
        label=_("Fichier"),
        allow_empty_file=True,  # request_attach refuses it, in its own words
        error_messages={"required": _("Choisissez un fichier à joindre.")},
        widget=forms.FileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf"}
        ),
    )
    submission = SubmissionField()

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        megabytes = max_bytes // (1024 * 1024)
        self.fields["file"].help_text = _(
            "Image (JPEG, PNG, WebP, HEIC) ou PDF, {limit} Mo au plus. Le type est vérifié "
            "d'après le contenu du fichier."
        ).format(limit=megabytes)
        # requests.js warns before sending a file over the limit (the proxy would refuse it).
        self.fields["file"].widget.attrs["data-max-bytes"] = str(max_bytes)


class MergeForm(forms.Form):
    prefix = "fusion"
    kept = forms.ChoiceField(label=_("Requête à garder"), widget=forms.RadioSelect)
    submission = SubmissionField()

    def __init__(
        self, *args: Any, this: ServiceRequest, other: ServiceRequest, **kwargs: Any
    ) -> None:
        older = min((this, other), key=lambda request: (request.created_at, request.pk))
        kwargs["initial"] = {"kept": older.number}
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kept"]).choices = [
            (request.number, f"{request.number} — {request.get_status_display()}")
            for request in (this, other)
        ]
