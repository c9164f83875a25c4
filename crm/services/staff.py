"""Writes of staff roles."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Department,
    StaffProfile,
    StaffRole,
)
from tenants.accounts.models import User

__all__ = [
    "staff_role_set",
]


def staff_role_set(*, user: User, role: str, department: Department | None = None) -> StaffProfile:
    """Give a staff account its role (and department for department staff and supervisors).
    Raises CrmError for an unknown role, a missing department or an account that is not staff."""
    if role not in StaffRole.values:
        raise CrmError(
            CrmErrorCode.INVALID_ROLE, _("Rôle inconnu : {role}.").format(role=role), field="role"
        )
    if not user.is_staff:
        raise CrmError(
            CrmErrorCode.NOT_STAFF, _("Seul un compte du personnel reçoit un rôle."), field="user"
        )
    if role in {StaffRole.DEPARTMENT, StaffRole.SUPERVISOR} and department is None:
        raise CrmError(
            CrmErrorCode.DEPARTMENT_REQUIRED,
            _("Ce rôle s'exerce dans un service : précisez lequel."),
            field="department",
        )
    profile, _created = StaffProfile.objects.update_or_create(
        user=user,
        defaults={
            "role": role,
            "department": department
            if role in {StaffRole.DEPARTMENT, StaffRole.SUPERVISOR}
            else None,
        },
    )
    return profile
