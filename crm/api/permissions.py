"""Who is calling the REST API, and what each role may do.

Roles: municipal administrator (superuser or administrator profile), 311 agent, supervisor and
department staff (their department only), citizen (a signed-in account linked to a Citizen: its
own requests only), and integrations by API key (read, or read and write). Staff accounts
without a profile get no more than the public.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from crm.models import ApiKey, Citizen, Department, StaffRole
from crm.selectors import staff_role_of
from tenants.accounts.second_factor import session_may_act_as_staff

ADMINISTRATOR = StaffRole.ADMINISTRATOR.value
AGENT = StaffRole.AGENT.value
SUPERVISOR = StaffRole.SUPERVISOR.value
DEPARTMENT = StaffRole.DEPARTMENT.value
CITIZEN = "citizen"
KEY = "key"
PUBLIC = "public"

STAFF_ROLES = frozenset({ADMINISTRATOR, AGENT, SUPERVISOR, DEPARTMENT})
# Roles that see every request and may see citizens' personal data.
TOWN_WIDE_ROLES = frozenset({ADMINISTRATOR, AGENT})


@dataclass(frozen=True)
class Viewer:
    role: str
    user: Any = None
    department: Department | None = None
    citizen: Citizen | None = None
    api_key: ApiKey | None = None
    # A staff account whose session lacks the second factor its role needs.
    second_factor_missing: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def can_write_as_key(self) -> bool:
        return self.api_key is not None and self.api_key.can_write

    @property
    def sees_personal_data(self) -> bool:
        return self.role in TOWN_WIDE_ROLES or self.role == SUPERVISOR


def viewer_of(request: Request) -> Viewer:
    """The caller's role, computed once per request."""
    cached = getattr(request, "_relais_viewer", None)
    if cached is not None:
        return cached
    viewer = _viewer(request)
    request._relais_viewer = viewer
    return viewer


def _viewer(request: Request) -> Viewer:
    if isinstance(request.auth, ApiKey):
        return Viewer(KEY, api_key=request.auth)
    user = request.user
    if not user or not user.is_authenticated or not user.is_active:
        return Viewer(PUBLIC)
    held = staff_role_of(user=user)
    if held is not None:
        # The same door as the other staff areas: a session that skipped the account's second
        # factor (or a staff account without one) has no staff rights here either.
        session = request.auth if isinstance(request.auth, SessionBase) else request.session
        if not session_may_act_as_staff(session, user, required=True):
            return Viewer(PUBLIC, user=user, second_factor_missing=True)
        return Viewer(held.role, user=user, department=held.department)
    if user.is_staff:  # a staff account without a profile: no more than the public
        return Viewer(PUBLIC, user=user)
    citizen = Citizen.objects.filter(account=user, merged_into__isnull=True).first()
    if citizen is None:
        return Viewer(PUBLIC, user=user)
    return Viewer(CITIZEN, user=user, citizen=citizen)


class HasRole(BasePermission):
    """Allow the roles named on the view (`allowed_roles`, or per method `roles_by_method`)."""

    message = _("Votre rôle ne permet pas cette opération.")

    def has_permission(self, request: Request, view: Any) -> bool:
        by_method = getattr(view, "roles_by_method", None)
        roles = (by_method or {}).get(request.method, getattr(view, "allowed_roles", ()))
        viewer = viewer_of(request)
        if viewer.second_factor_missing and viewer.role not in roles:
            self.message = _(
                "Connectez-vous avec la double authentification de votre compte du personnel "
                "pour cette opération."
            )
        if viewer.role == KEY and request.method not in {"GET", "HEAD", "OPTIONS"}:
            return KEY in roles and viewer.can_write_as_key
        return viewer.role in roles
