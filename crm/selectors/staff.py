"""Who a town account is: its staff role and department."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from crm.models import (
    Department,
    StaffRole,
)
from tenants.accounts.models import User

__all__ = [
    "StaffRoleOf",
    "is_town_administrator",
    "staff_role_of",
    "user_by_email",
]


@dataclass(frozen=True)
class StaffRoleOf:
    role: str
    department: Department | None


def staff_role_of(*, user: User | AnonymousUser) -> StaffRoleOf | None:
    """A town staff account's role: a superuser is a municipal administrator, other staff have
    their profile's role and department; None for anyone else (a citizen, a staff account
    without a profile, an inactive one). The one home of this rule (REST API, admin pages)."""
    if not (user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser)):
        return None
    profile = getattr(user, "staff_profile", None)
    if user.is_superuser:
        return StaffRoleOf(StaffRole.ADMINISTRATOR.value, profile.department if profile else None)
    if profile is None:
        return None
    return StaffRoleOf(profile.role, profile.department)


def is_town_administrator(*, user: User | AnonymousUser) -> bool:
    """A municipal administrator of the current town (see staff_role_of)."""
    held = staff_role_of(user=user)
    return held is not None and held.role == StaffRole.ADMINISTRATOR


def user_by_email(*, email: str) -> User | None:
    """The town account with this e-mail address (addresses are stored in lower case)."""
    return User.objects.filter(email=email.lower()).first()
