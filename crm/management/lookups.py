"""What the CRM's commands look up from their arguments, with the command-line's errors."""

from __future__ import annotations

from django.core.management.base import CommandError

from crm.models import Citizen
from tenants.accounts.models import User


def staff_member(email: str | None) -> User | None:
    """The town's staff account named by --by, if any (the access log's "who")."""
    if not email:
        return None
    user = User.objects.filter(email=email.strip().lower(), is_staff=True, is_active=True).first()
    if user is None:
        raise CommandError(f"Aucun membre actif du personnel n'a l'adresse {email}.")
    return user


def citizen_by_id(citizen_id: int) -> Citizen:
    citizen = Citizen.objects.filter(pk=citizen_id).first()
    if citizen is None:
        raise CommandError(f"Aucune fiche de citoyen n° {citizen_id} dans cette municipalité.")
    return citizen
