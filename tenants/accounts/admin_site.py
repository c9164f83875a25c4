"""The Django admin of every host, behind the same door as the other staff areas.

Django's admin brings its own sign-in form, with no rate limit and no second factor: beside
allauth's, it was a way around both. Here it has none: `/admin/login/` sends to allauth's
sign-in, and every admin page asks for the second factor (set up first if needed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.accounts.second_factor import second_factor_detour

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class RelaisAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Relais — administration")
    site_title = gettext_lazy("Relais")
    index_title = gettext_lazy("Tableau de bord")

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            raise PermissionDenied(_("Votre compte n'a pas accès à l'administration."))
        # allauth checks that `next` stays on this host before following it.
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': target})}")

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        guarded = super().admin_view(view, cacheable)

        def gate(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if self.has_permission(request):
                detour = second_factor_detour(request, required=True)
                if detour is not None:
                    return detour
            return guarded(request, *args, **kwargs)

        return cast(_View, update_wrapper(gate, guarded))
