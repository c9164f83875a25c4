"""The REST API's gate: each view names the roles it admits (`crm.roles` says who is who)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from crm.roles import viewer_of


class HasRole(BasePermission):
    """Allow the roles named on the view (`allowed_roles`, or per method `roles_by_method`)."""

    message = _("Votre rôle ne permet pas cette opération.")

    def has_permission(self, request: Request, view: Any) -> bool:
        by_method = getattr(view, "roles_by_method", None)
        roles = (by_method or {}).get(request.method, getattr(view, "allowed_roles", ()))
        viewer = viewer_of(request)
        if viewer.refused_for_second_factor(roles):
            self.message = _(
                "Connectez-vous avec la double authentification de votre compte du personnel "
                "pour cette opération."
            )
        return viewer.admitted(roles, writes=request.method not in {"GET", "HEAD", "OPTIONS"})
