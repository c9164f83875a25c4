"""Reads of interactions: the contacts with citizens behind first-contact figures."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Interaction
from crm.roles import DEPARTMENT_ROLES, Viewer

__all__ = ["interaction_list"]


def interaction_list(*, viewer: Viewer) -> QuerySet[Interaction]:
    """The interactions `viewer` may read: a supervisor (or department staff) their
    department's, others with access to personal data all, anyone else none."""
    interactions = Interaction.objects.select_related("request", "agent")
    if viewer.role in DEPARTMENT_ROLES:
        return interactions.filter(department=viewer.department)
    if not viewer.sees_personal_data:
        return interactions.none()
    return interactions
