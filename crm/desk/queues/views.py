"""The queues: a department's, one's own and the unassigned requests, filtered, sorted and
paged; saved views; bulk assignment and status change; the CSV export of the filtered list.

Each view parses (the filter set, a form), calls one selector or service, and renders."""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from crm import selectors, services
from crm.desk.access import staff_required
from crm.desk.navigation import QUEUE_ROLES
from crm.desk.once import claimed
from crm.desk.queues.filters import QueueFilterSet
from crm.desk.queues.forms import ASSIGN, BulkForm, DeleteForm, SavedViewForm
from crm.desk.queues.table import NUMBER_PLACEHOLDER, SLA_LABELS, table_rows
from crm.desk.rendering import desk_render
from crm.errors import CrmError
from crm.models import Channel, Priority, RequestStatus, ServiceRequest
from crm.roles import Viewer
from crm.selectors import QUEUE_COUNT_CAP, QueueFilters, QueueRow, QueueScope

# Where the error summary's links lead, for the fields that are not inputs of their own.
_FILTER_ANCHORS = {"scope": "filtre-sort_error", "sort": "filtre-sort_error"}
_BULK_ANCHORS = {
    "__all__": "groupe-actions",
    "requests": "groupe-requests_error",
    "submission": "groupe-actions",
    "action": "groupe-actions",
}


# The table's sortable columns: (sort key, label). The selector holds the whitelist.
COLUMNS = (
    ("number", gettext_lazy("Numéro")),
    ("type", gettext_lazy("Type de requête")),
    ("status", gettext_lazy("Statut")),
    ("priority", gettext_lazy("Priorité")),
    ("sector", gettext_lazy("Secteur")),
    ("channel", gettext_lazy("Canal")),
    ("age", gettext_lazy("Âge")),
    ("assignee", gettext_lazy("Responsable")),
    ("due", gettext_lazy("Échéance")),
)


def _request_url_template() -> str:
    """The request page's path with a placeholder for the number: worked out once per page,
    not once per row."""
    return reverse("desk:request", kwargs={"number": NUMBER_PLACEHOLDER})


def _filterset(request: HttpRequest, viewer: Viewer, data: QueryDict) -> QueueFilterSet:
    filterset = QueueFilterSet(data, viewer=viewer, choices=selectors.queue_choices(viewer=viewer))
    filterset.is_valid()
    return filterset


def _bulk_form(
    viewer: Viewer,
    filterset: QueueFilterSet,
    statuses: Collection[str],
    data: QueryDict | None = None,
) -> BulkForm:
    return BulkForm(
        data,
        departments=(
            [viewer.department]
            if viewer.confined_to_department and viewer.department is not None
            else filterset.choices.departments
        ),
        assignees=selectors.queue_assignees(viewer=viewer),
        statuses=services.bulk_status_targets(statuses=statuses),
        may_assign=viewer.dispatches_requests,
    )


def _queue_url(query: str) -> str:
    return f"{reverse('desk:queue')}?{query}" if query else reverse("desk:queue")


def _render_queue(
    request: HttpRequest,
    viewer: Viewer,
    *,
    filterset: QueueFilterSet | None = None,
    bulk_form: BulkForm | None = None,
    view_form: SavedViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    filterset = filterset or _filterset(request, viewer, request.GET)
    filters = filterset.queue_filters()
    queue = selectors.queue_page(
        viewer=viewer, filters=filters, page_number=request.GET.get("page"), now=now
    )
    query = filterset.query()
    request_url = _request_url_template()
    if bulk_form is None:
        bulk_form = _bulk_form(viewer, filterset, queue.statuses)
    saved_views = list(selectors.saved_views_of(user=viewer.user))
    errors = [
        (_FILTER_ANCHORS.get(name, f"filtre-{name}"), error)
        for name, field_errors in filterset.form.errors.items()
        for error in field_errors
    ] + [
        (_BULK_ANCHORS.get(name, f"groupe-{name}"), error)
        for name, field_errors in bulk_form.errors.items()
        for error in field_errors
    ]
    if view_form is not None:
        errors += [("vue-name", error) for error in view_form.errors.get("name", [])]
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "filters": filters,
        "queue": queue,
        "rows": table_rows(
            queue.rows,
            request_url,
            checked=_checked(bulk_form),
            now=now,
            show_department=not filters.department_code and not viewer.confined_to_department,
            described_by_error=bool(bulk_form.errors.get("requests")),
        ),
        "query": query,
        "tabs": _tabs(viewer, filterset, filters),
        "departments": [
            (d, _queue_url(filterset.query(department=d.code, scope="")))
            for d in filterset.choices.departments
        ],
        "columns": _columns(filterset, filters),
        "pages": _pages(query, queue.page),
        "bulk_form": bulk_form,
        "view_form": view_form or SavedViewForm(initial={"query": query}),
        "saved_views": [(view, _queue_url(view.query), DeleteForm()) for view in saved_views],
        "current_view": next((v for v in saved_views if v.query == query), None),
        "count_cap": number_format(QUEUE_COUNT_CAP, force_grouping=True),
        "export_url": f"{reverse('desk:queue_export')}?{query}"
        if query
        else reverse("desk:queue_export"),
        "bulk_url": f"{reverse('desk:queue_bulk')}?{query}"
        if query
        else reverse("desk:queue_bulk"),
        "errors": errors,
        "now": now,
    }
    if status == 200 and not filterset.form.is_valid():
        status = 400
    # htmx (the filter form) refreshes the queue below the heading; without it, the page.
    htmx = bool(getattr(request, "htmx", False))  # django-htmx's middleware sets it
    template = "desk/queues/_queue.html" if htmx else "desk/queues/index.html"
    return desk_render(request, viewer, template, context, section="queues", status=status)


def _checked(bulk_form: Any) -> frozenset[str]:
    value = bulk_form["requests"].value() if bulk_form is not None else None
    return frozenset(value or ())


def _tabs(viewer: Viewer, filterset: QueueFilterSet, filters: QueueFilters) -> list[dict[str, Any]]:
    everyone = (
        _("Mon service : {name}").format(name=viewer.department)
        if viewer.confined_to_department
        else _("Toutes les requêtes")
    )
    labels = {
        QueueScope.ALL: everyone,
        QueueScope.MINE: _("Mes requêtes"),
        QueueScope.UNASSIGNED: _("Non assignées"),
    }
    return [
        {
            "label": label,
            "url": _queue_url(filterset.query(scope=scope.value)),
            "current": filters.scope == scope,
        }
        for scope, label in labels.items()
    ]


def _columns(filterset: QueueFilterSet, filters: QueueFilters) -> list[dict[str, Any]]:
    current = filters.sort.lstrip("-")
    descending = filters.sort.startswith("-")
    columns = []
    for key, label in COLUMNS:
        sorted_here = key == current
        # A second click on the sorted column reverses it; the first sorts ascending.
        next_sort = f"-{key}" if sorted_here and not descending else key
        columns.append(
            {
                "key": key,
                "label": label,
                "url": _queue_url(filterset.query(sort=next_sort)),
                "aria_sort": (("descending" if descending else "ascending") if sorted_here else ""),
            }
        )
    return columns


def _pages(query: str, page: Any) -> dict[str, Any]:
    def url(number: int) -> str:
        return _queue_url(f"{query}&page={number}" if query else f"page={number}")

    return {
        "previous": url(page.previous_page_number()) if page.has_previous() else "",
        "next": url(page.next_page_number()) if page.has_next() else "",
    }


@staff_required(QUEUE_ROLES)
def index(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return _render_queue(request, viewer)


@require_POST
@staff_required(QUEUE_ROLES)
def bulk(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    """Assign or move the checked rows, all or none; then back to the same queue."""
    filterset = _filterset(request, viewer, request.GET)
    form = _bulk_form(viewer, filterset, RequestStatus.values, request.POST)
    if not form.is_valid():
        return _render_queue(request, viewer, filterset=filterset, bulk_form=form, status=400)
    data = form.cleaned_data
    back = _queue_url(filterset.query())
    with claimed(request, data["submission"]) as claim:
        if not claim.first:
            return redirect(claim.done_url or back)
        try:
            if data["action"] == ASSIGN:
                assignee = data.get("assignee")
                done = services.requests_bulk_assign(
                    viewer=viewer,
                    numbers=data["requests"],
                    department_code=data.get("department") or "",
                    assignee_email=assignee.email if assignee is not None else "",
                )
                message = ngettext(
                    "%(count)d requête assignée.", "%(count)d requêtes assignées.", len(done)
                )
            else:
                done = services.requests_bulk_change_status(
                    viewer=viewer,
                    numbers=data["requests"],
                    status=data["status"],
                    message=data.get("message") or "",
                )
                message = ngettext(
                    "%(count)d requête passée à « %(status)s ».",
                    "%(count)d requêtes passées à « %(status)s ».",
                    len(done),
                )
        except CrmError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
            return _render_queue(
                request, viewer, filterset=filterset, bulk_form=form, status=error.status
            )
        messages.success(
            request,
            message
            % {"count": len(done), "status": RequestStatus(data.get("status") or "new").label},
        )
        claim.done(back)
    return redirect(back)


@require_POST
@staff_required(QUEUE_ROLES)
def view_save(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    """Save the queue's current filters and sort under a name, for oneself."""
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        return _render_queue(request, viewer, view_form=form, status=400)
    # Only what the filters accept is kept, written as the queue writes it.
    query = _filterset(request, viewer, QueryDict(form.cleaned_data["query"])).query()
    with claimed(request, form.cleaned_data["submission"]) as claim:
        if not claim.first:
            return redirect(claim.done_url or _queue_url(query))
        try:
            view = services.saved_view_create(
                actor=viewer.user, name=form.cleaned_data["name"], query=query
            )
        except CrmError as error:
            form.add_error("name" if error.field == "name" else None, error.message)
            return _render_queue(request, viewer, view_form=form, status=error.status)
        messages.success(request, _("Vue « {name} » enregistrée.").format(name=view.name))
        claim.done(_queue_url(query))
    return redirect(_queue_url(query))


@require_POST
@staff_required(QUEUE_ROLES)
def view_delete(request: HttpRequest, viewer: Viewer, pk: int) -> HttpResponse:
    form = DeleteForm(request.POST)
    back = reverse("desk:queue")
    if not form.is_valid():
        return redirect(back)
    with claimed(request, form.cleaned_data["submission"]) as claim:
        if not claim.first:
            return redirect(claim.done_url or back)
        try:
            services.saved_view_delete(actor=viewer.user, pk=pk)
        except CrmError as error:
            raise Http404(error.message) from error
        messages.success(request, _("Vue supprimée."))
        claim.done(back)
    return redirect(back)


class _Echo:
    """A file-like object whose write returns the line: csv.writer writes one row at a time
    into the response's stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts like a formula: a citizen's name must stay text.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _field_label(name: str) -> str:
    return capfirst(str(getattr(ServiceRequest._meta.get_field(name), "verbose_name", name)))


@staff_required(QUEUE_ROLES)
def export(request: HttpRequest, viewer: Viewer) -> HttpResponseBase:
    """The filtered queue as CSV for Excel in French: `;` between fields, a UTF-8 byte-order
    mark, streamed as it is read. Names of citizens only for roles that see personal data,
    each export logged (Law 25) chunk by chunk before its rows leave."""
    filterset = _filterset(request, viewer, request.GET)
    if not filterset.form.is_valid():
        return _render_queue(request, viewer, filterset=filterset, status=400)
    filters = filterset.queue_filters()
    now = timezone.now()
    personal = viewer.sees_personal_data
    language = translation.get_language()
    header = [
        _field_label("number"),
        _field_label("service_type"),
        _field_label("status"),
        _field_label("priority"),
        _field_label("sector"),
        _field_label("channel"),
        _field_label("department"),
        _field_label("assignee"),
        _field_label("created_at"),
        _field_label("sla_due_at"),
        _("État du délai"),
    ]
    if personal:
        header += [_field_label("citizen"), _field_label("address")]
    statuses = {value: str(label) for value, label in RequestStatus.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    sla_labels = {state: str(label) for state, label in SLA_LABELS.items()}

    def line(row: QueueRow) -> list[str]:
        r = row.request
        cells = [
            r.number,
            r.service_type.localized("name"),
            statuses.get(r.status, r.status),
            priorities.get(r.priority, r.priority),
            str(r.sector) if r.sector else "",
            channels.get(r.channel, r.channel),
            str(r.department),
            (r.assignee.get_full_name() or r.assignee.email) if r.assignee else "",
            _when(r.created_at),
            _when(r.sla_due_at),
            sla_labels[row.sla],
        ]
        if personal:
            citizen = r.citizen
            cells += [
                f"{citizen.first_name} {citizen.last_name}".strip() if citizen else "",
                r.address,
            ]
        return [_cell(c) for c in cells]

    def stream() -> Iterator[str]:
        writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
        with translation.override(language):
            yield "\ufeff" + writer.writerow(header)
            for chunk in selectors.queue_export_rows(viewer=viewer, filters=filters, now=now):
                services.queue_export_log(
                    viewer=viewer, service_requests=[row.request for row in chunk]
                )
                for row in chunk:
                    yield writer.writerow(line(row))

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    filename = f"requetes-{timezone.localdate(now).isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
