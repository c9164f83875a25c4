"""The workspace's door: who may open which page, and the `Viewer` each view is handed."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.roles import STAFF_ROLES, Viewer, second_factor_required, viewer_of
from crm.selectors import crm_settings, staff_role_of
from tenants.accounts.second_factor import second_factor_detour

P = ParamSpec("P")
DeskView = Callable[Concatenate[HttpRequest, Viewer, P], HttpResponseBase]


def staff_required(
    roles: Collection[str] = STAFF_ROLES,
) -> Callable[[DeskView[P]], Callable[Concatenate[HttpRequest, P], HttpResponseBase]]:
    """Let in the town's staff whose role is among `roles`, signed in with the second factor
    their role (or the town's setting) requires, and hand the view their `Viewer`.

    Anonymous visitors are sent to sign in; a citizen's account, or staff whose role may not
    open the page, get the 403 page; staff who lack their second factor are sent to set it up
    or to enter a code, then come back."""

    def decorator(view: DeskView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("account_login"))
            viewer = viewer_of(request)
            if viewer.second_factor_missing:
                # Staff whose session lacks the second factor their role (or the town) needs:
                # set it up or enter it, then come back. (The usual path skips these queries.)
                held = staff_role_of(user=request.user)
                required = held is not None and second_factor_required(
                    held.role, all_staff=crm_settings().staff_second_factor_required
                )
                detour = second_factor_detour(request, required=required)
                if detour is not None:
                    return detour
            if not viewer.is_staff:
                raise PermissionDenied(_("Cet espace est réservé au personnel de la Ville."))
            if not viewer.admitted(roles, writes=False):
                raise PermissionDenied(_("Votre rôle ne donne pas accès à cette page."))
            return view(request, viewer, *args, **kwargs)

        return wrapper

    return decorator
