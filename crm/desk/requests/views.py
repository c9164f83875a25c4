"""The request page: what staff see of one request and every action they take on it.

Each action is a POST form of its own (status, cancellation, assignment, internal note, public
reply, attachment, merge) that calls one service and comes back to the page; a refusal renders
the page again with the message next to the field and writes nothing. The page works without
JavaScript (requests.js only warns before sending a file over the size limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from crm import selectors, services
from crm.desk.access import staff_required
from crm.desk.once import claimed
from crm.desk.rendering import desk_render
from crm.desk.requests.forms import (
    AssignForm,
    AttachForm,
    CancelForm,
    MergeForm,
    NoteForm,
    StatusForm,
    refusal_show,
)
from crm.errors import CrmError
from crm.models import ServiceRequest
from crm.roles import DISPATCH_ROLES, Viewer

# Where the access log says a citizen was seen from.
ACCESS_CONTEXT = "personnel"
NEWEST_FIRST = "recent"
# Images a browser shows by itself; anything else (PDF, HEIC) is downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

Action = Callable[[ServiceRequest, dict[str, Any]], tuple[str, str]]


def _not_found_as_404(error: CrmError) -> None:
    if error.status == 404:
        raise Http404(error.message) from error


def _request_or_404(viewer: Viewer, number: str) -> ServiceRequest:
    try:
        return selectors.request_for(viewer=viewer, number=number)
    except CrmError as error:
        _not_found_as_404(error)
        raise


def _page_url(number: str) -> str:
    return reverse("desk:request", args=[number])


def _render_page(
    request: HttpRequest,
    viewer: Viewer,
    number: str,
    bound: dict[str, forms.Form] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The page, with the forms its request and its viewer allow; `bound`: a form sent back
    with its errors, by name."""
    try:
        page = selectors.request_page(viewer=viewer, number=number)
    except CrmError as error:
        _not_found_as_404(error)
        raise
    service_request = page.service_request
    bound = bound or {}
    targets = services.request_status_targets(service_request.status)
    choices = (
        selectors.request_assignment_choices(viewer=viewer)
        if service_request.is_open and viewer.dispatches_requests
        else None
    )
    page_forms: dict[str, forms.Form | None] = {
        "status": bound.get("status") or (StatusForm(targets=targets) if targets else None),
        "cancel": bound.get("cancel")
        or (CancelForm() if services.request_may_cancel(service_request.status) else None),
        "assign": bound.get("assign")
        or (
            AssignForm(
                service_request=service_request,
                departments=choices.departments,
                staff=choices.staff,
            )
            if choices is not None and choices.offered
            else None
        ),
        "note": bound.get("note") or NoteForm(public=False),
        "reply": bound.get("reply") or NoteForm(public=True),
        "attach": bound.get("attach") or AttachForm(max_bytes=services.attachment_max_bytes()),
    }
    if page.shows_citizen:
        # Law 25: the citizen's details are on the page; say who saw them and why.
        services.access_log_requests_shown(
            viewer=viewer,
            service_requests=[service_request],
            purpose=None,
            context=ACCESS_CONTEXT,
        )
    newest_first = request.GET.get("ordre") == NEWEST_FIRST
    context = {
        "page": page,
        "service_request": service_request,
        "timeline": list(reversed(page.timeline)) if newest_first else page.timeline,
        "newest_first": newest_first,
        "forms": page_forms,
        "refused": [form for form in bound.values() if form.errors],
        "merges": service_request.is_open,
    }
    return desk_render(
        request, viewer, "desk/requests/page.html", context, section="requests", status=status
    )


def _act(
    request: HttpRequest,
    viewer: Viewer,
    number: str,
    name: str,
    make_form: Callable[[ServiceRequest], forms.Form],
    action: Action,
) -> HttpResponse:
    """Parse the form `make_form` builds, run `action` once per submission token, and go back
    to the page (or where the action says) with its message; a refusal renders the page with
    the form's errors and writes nothing."""
    service_request = _request_or_404(viewer, number)
    form = make_form(service_request)
    if form.is_valid():
        with claimed(request, form.cleaned_data["submission"]) as claim:
            if not claim.first:
                return redirect(claim.done_url or _page_url(service_request.number))
            try:
                url, done = action(service_request, form.cleaned_data)
            except CrmError as error:
                refusal_show(form, error)
            else:
                messages.success(request, done)
                claim.done(url)
                return redirect(url)
    return _render_page(request, viewer, service_request.number, {name: form}, status=400)


@require_safe
@staff_required()
def request_page(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    return _render_page(request, viewer, number)


@require_POST
@staff_required()
def status_change(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    def action(service_request: ServiceRequest, data: dict[str, Any]) -> tuple[str, str]:
        changed = services.request_change_status(
            actor=viewer.user,
            service_request=service_request,
            status=data["status"],
            message=data["message"],
        )
        return _page_url(changed.number), _("Statut changé : {status}.").format(
            status=changed.get_status_display()
        )

    return _act(
        request,
        viewer,
        number,
        "status",
        lambda service_request: StatusForm(
            request.POST, targets=services.request_status_targets(service_request.status)
        ),
        action,
    )


@require_POST
@staff_required()
def cancel(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    def action(service_request: ServiceRequest, data: dict[str, Any]) -> tuple[str, str]:
        services.request_cancel(
            actor=viewer.user, service_request=service_request, reason=data["reason"]
        )
        return _page_url(service_request.number), _("La requête a été annulée.")

    return _act(request, viewer, number, "cancel", lambda _r: CancelForm(request.POST), action)


@require_POST
@staff_required(DISPATCH_ROLES)
def assign(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    def make_form(service_request: ServiceRequest) -> forms.Form:
        choices = selectors.request_assignment_choices(viewer=viewer)
        return AssignForm(
            request.POST,
            service_request=service_request,
            departments=choices.departments,
            staff=choices.staff,
        )

    def action(service_request: ServiceRequest, data: dict[str, Any]) -> tuple[str, str]:
        services.request_dispatch(
            viewer=viewer,
            service_request=service_request,
            department_code=data["department"],
            assignee_email=data["assignee"],
        )
        return _page_url(service_request.number), _("La requête a été assignée.")

    return _act(request, viewer, number, "assign", make_form, action)


def _message(request: HttpRequest, viewer: Viewer, number: str, *, public: bool) -> HttpResponse:
    def action(service_request: ServiceRequest, data: dict[str, Any]) -> tuple[str, str]:
        services.request_add_note(
            actor=viewer.user,
            service_request=service_request,
            message=data["message"],
            public=public,
        )
        done = _("Réponse au citoyen ajoutée.") if public else _("Note interne ajoutée.")
        return _page_url(service_request.number), done

    return _act(
        request,
        viewer,
        number,
        "reply" if public else "note",
        lambda _r: NoteForm(request.POST, public=public),
        action,
    )


@require_POST
@staff_required()
def note(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    return _message(request, viewer, number, public=False)


@require_POST
@staff_required()
def reply(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    return _message(request, viewer, number, public=True)


@require_POST
@staff_required()
def attach(request: HttpRequest, viewer: Viewer, number: str) -> HttpResponse:
    def action(service_request: ServiceRequest, data: dict[str, Any]) -> tuple[str, str]:
        attachment = services.request_attach(
            actor=viewer.user, service_request=service_request, upload=data["file"]
        )
        return _page_url(service_request.number), _("Pièce jointe ajoutée : {name}.").format(
            name=attachment.original_name
        )

    return _act(
        request,
        viewer,
        number,
        "attach",
        lambda _r: AttachForm(
            request.POST, request.FILES, max_bytes=services.attachment_max_bytes()
        ),
        action,
    )


@require_safe
@staff_required()
def attachment(request: HttpRequest, viewer: Viewer, number: str, pk: int) -> FileResponse:
    """An attachment, to staff who may read its request (404 for anyone else): with its
    checked type, never sniffed, shown in the browser only when it is an image it displays."""
    try:
        found = selectors.request_attachment_for(viewer=viewer, number=number, pk=pk)
    except CrmError as error:
        _not_found_as_404(error)
        raise
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("Cette pièce jointe n'existe pas.")) from error
    response = FileResponse(
        handle,
        content_type=found.content_type,
        as_attachment=found.content_type not in INLINE_TYPES,
        filename=found.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required()
def merge(request: HttpRequest, viewer: Viewer, number: str, other: str) -> HttpResponse:
    """Confirm, then fold one of two open requests into the other (request_merge): the one not
    kept is closed as a duplicate."""
    this = _request_or_404(viewer, number)
    duplicate_of = _request_or_404(viewer, other)
    form = MergeForm(request.POST or None, this=this, other=duplicate_of)
    if request.method == "POST" and form.is_valid():
        with claimed(request, form.cleaned_data["submission"]) as claim:
            if not claim.first:
                return redirect(claim.done_url or _page_url(this.number))
            kept, folded = (
                (this, duplicate_of)
                if form.cleaned_data["kept"] == this.number
                else (duplicate_of, this)
            )
            try:
                services.request_merge(actor=viewer.user, duplicate=folded, parent=kept)
            except CrmError as error:
                refusal_show(form, error)
            else:
                messages.success(
                    request,
                    _("La requête {duplicate} a été fusionnée dans la requête {kept}.").format(
                        duplicate=folded.number, kept=kept.number
                    ),
                )
                claim.done(_page_url(kept.number))
                return redirect(_page_url(kept.number))
    return desk_render(
        request,
        viewer,
        "desk/requests/merge.html",
        {"this": this, "other": duplicate_of, "form": form},
        section="requests",
        status=400 if form.errors else 200,
    )
