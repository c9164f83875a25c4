"""Writes of the staff workspace's queues: saved views, the Law 25 log of an export, and bulk
assignment or status change.

A bulk action is all-or-nothing: one transaction calls the per-request service for each
request (`request_dispatch`, `request_change_status`), so each gets the same rules and the same
timeline row as when done one by one; the first refusal undoes the others and names its
request."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import AccessAction, RequestStatus, SavedView, ServiceRequest
from crm.roles import Viewer
from crm.selectors.requests import RequestFilters, request_list
from crm.services.access import access_log_requests_seen
from crm.services.requests import (
    ALLOWED_TRANSITIONS,
    request_change_status,
    request_dispatch,
)
from tenants.accounts.models import User

__all__ = [
    "BULK_MAX",
    "bulk_status_targets",
    "queue_export_log",
    "requests_bulk_assign",
    "requests_bulk_change_status",
    "saved_view_create",
    "saved_view_delete",
]

# A bulk action acts on the rows checked on one queue page (50) and no more.
BULK_MAX = 50
SAVED_VIEW_NAME_MAX = 80
SAVED_VIEW_QUERY_MAX = 1000
# Where the access log says an export from the staff workspace came from.
EXPORT_CONTEXT = "personnel"


def saved_view_create(*, actor: User, name: str, query: str) -> SavedView:
    """Save a queue's filters and sort (`query`, the query string the queue page reads back)
    under `name`, for `actor` alone. Raises CrmError `name_required`, `name_taken` (one of the
    person's views already has it) or `query_too_long`."""
    name = " ".join((name or "").split())
    if not name:
        raise CrmError(CrmErrorCode.NAME_REQUIRED, _("Donnez un nom à cette vue."), field="name")
    if len(name) > SAVED_VIEW_NAME_MAX:
        raise CrmError(
            CrmErrorCode.NAME_REQUIRED,
            _("Le nom dépasse {limit} caractères.").format(limit=SAVED_VIEW_NAME_MAX),
            field="name",
        )
    if len(query) > SAVED_VIEW_QUERY_MAX:
        raise CrmError(
            CrmErrorCode.QUERY_TOO_LONG, _("Ces filtres sont trop longs pour être enregistrés.")
        )
    taken = CrmError(
        CrmErrorCode.NAME_TAKEN,
        _("Vous avez déjà une vue nommée « {name} ».").format(name=name),
        field="name",
        status=409,
    )
    if SavedView.objects.filter(user=actor, name=name).exists():
        raise taken
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=actor, name=name, query=query)
    except IntegrityError as error:  # the same name saved meanwhile (a second tab)
        raise taken from error


def saved_view_delete(*, actor: User, pk: int) -> None:
    """Delete `actor`'s saved view `pk`. Raises CrmError `not_found` for a view that is not
    theirs (another person's view does not exist for them)."""
    with transaction.atomic():
        deleted, _rows = SavedView.objects.filter(user=actor, pk=pk).delete()
    if not deleted:
        raise CrmError(CrmErrorCode.NOT_FOUND, _("Cette vue enregistrée n'existe pas."), status=404)


def queue_export_log(*, viewer: Viewer, service_requests: Sequence[ServiceRequest]) -> int:
    """Log (Law 25) that `viewer` exported these requests with their citizens' names: one
    `export` row per citizen, in one INSERT. Nothing for a role that is not shown personal
    data (its export leaves the names out). Returns the number of rows."""
    if not viewer.sees_personal_data or viewer.user is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):  # the town's language, as elsewhere
        purpose = _("Exportation CSV d'une liste de requêtes")
    return access_log_requests_seen(
        actor=viewer.user,
        service_requests=service_requests,
        purpose=purpose,
        context=EXPORT_CONTEXT,
        action=AccessAction.EXPORT,
    )


def _bulk(
    *,
    viewer: Viewer,
    numbers: Sequence[str],
    act: Callable[[ServiceRequest], ServiceRequest],
) -> list[ServiceRequest]:
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if not wanted:
        raise CrmError(
            CrmErrorCode.NOTHING_SELECTED,
            _("Cochez au moins une requête."),
            field="requests",
        )
    if len(wanted) > BULK_MAX:
        raise CrmError(
            CrmErrorCode.BULK_TOO_LARGE,
            _("Une action groupée porte sur {limit} requêtes au plus.").format(limit=BULK_MAX),
            field="requests",
        )
    with transaction.atomic():
        # Lock them all first, in one fixed order: two bulk actions never deadlock.
        found = {
            r.number: r
            for r in request_list(viewer=viewer, filters=RequestFilters(numbers=tuple(wanted)))
            .select_related(None)
            .select_for_update()
            .order_by("pk")
        }
        done: list[ServiceRequest] = []
        for number in wanted:
            service_request = found.get(number)
            if service_request is None:
                raise CrmError(
                    CrmErrorCode.NOT_FOUND,
                    _("La requête {number} n'existe pas.").format(number=number[:40]),
                    field="requests",
                    status=404,
                )
            try:
                done.append(act(service_request))
            except CrmError as error:
                raise CrmError(
                    error.code,
                    _("Requête {number} : {reason} Aucune requête n'a été modifiée.").format(
                        number=number, reason=error.message
                    ),
                    field=error.field,
                    status=error.status,
                ) from error
    return done


def requests_bulk_assign(
    *,
    viewer: Viewer,
    numbers: Sequence[str],
    department_code: str = "",
    assignee_email: str = "",
) -> list[ServiceRequest]:
    """Give every request numbered in `numbers` to a department and/or a person, as
    `request_dispatch` does for one (a supervisor within their own department), all or none.
    Raises PermissionDenied for a role that does not assign, and CrmError naming the first
    request refused (`not_found` for one the viewer may not read) after undoing the others."""
    if not viewer.dispatches_requests:
        raise PermissionDenied(_("Votre rôle ne permet pas d'assigner des requêtes."))
    return _bulk(
        viewer=viewer,
        numbers=numbers,
        act=lambda service_request: request_dispatch(
            viewer=viewer,
            service_request=service_request,
            department_code=department_code,
            assignee_email=assignee_email,
        ),
    )


def requests_bulk_change_status(
    *, viewer: Viewer, numbers: Sequence[str], status: str, message: str = ""
) -> list[ServiceRequest]:
    """Move every request numbered in `numbers` to `status`, as `request_change_status` does
    for one, all or none. Raises CrmError naming the first request refused (an illegal
    transition, `not_found` for one the viewer may not read) after undoing the others."""
    if not viewer.is_staff:
        raise PermissionDenied
    return _bulk(
        viewer=viewer,
        numbers=numbers,
        act=lambda service_request: request_change_status(
            actor=viewer.user, service_request=service_request, status=status, message=message
        ),
    )


def bulk_status_targets(*, statuses: Collection[str]) -> list[str]:
    """The statuses a bulk change may move requests of `statuses` to (the workflow's moves
    from at least one of them; cancellation and merging have their own actions), in the
    workflow's order."""
    reachable = set().union(*(ALLOWED_TRANSITIONS.get(status, ()) for status in statuses))
    reachable -= {RequestStatus.CANCELLED, RequestStatus.DUPLICATE}
    return [status for status in RequestStatus.values if status in reachable]
