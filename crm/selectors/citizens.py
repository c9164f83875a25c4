"""Reads of citizens' records: search and likely duplicates."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    Citizen,
)
from crm.roles import Viewer
from tenants.accounts.models import User

__all__ = [
    "citizen_by_pk",
    "citizen_duplicates",
    "citizen_existing",
    "citizen_for",
    "citizen_of_account",
    "citizen_search",
]


def citizen_duplicates(*, citizen: Citizen) -> QuerySet[Citizen]:
    """Other active records with the same e-mail or the same phone number."""
    match = Q(pk__in=[])
    if citizen.email:
        match |= Q(email__iexact=citizen.email)
    if citizen.phone:
        match |= Q(phone=citizen.phone)
    return Citizen.objects.filter(match, merged_into__isnull=True).exclude(pk=citizen.pk)


def citizen_search(*, query: str) -> QuerySet[Citizen]:
    """Active citizens whose name, e-mail or phone matches `query` (all of them when blank);
    merged and anonymised records are left out."""
    citizens = Citizen.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    text = query.strip()
    if not text:
        return citizens
    digits = re.sub(r"\D", "", text)
    match = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
    if len(digits) >= 4:
        match |= Q(phone__contains=digits)
    return citizens.filter(match)


def citizen_of_account(*, user: User) -> Citizen | None:
    """The citizen record a town account is linked to (its current one, not a merged one)."""
    return Citizen.objects.filter(account=user, merged_into__isnull=True).first()


def citizen_for(*, viewer: Viewer, pk: int) -> Citizen:
    """The citizen record `pk`, for a role that may read citizens' personal data. Raises
    CrmError `not_found` otherwise (a record one may not read does not exist for them)."""
    if not viewer.sees_personal_data:
        raise _no_such_citizen(pk)
    return citizen_existing(pk=pk)


def citizen_existing(*, pk: int) -> Citizen:
    """The citizen record `pk`. Raises CrmError `not_found` when there is none."""
    citizen = Citizen.objects.filter(pk=pk).first()
    if citizen is None:
        raise _no_such_citizen(pk)
    return citizen


def _no_such_citizen(pk: int) -> CrmError:
    return CrmError(
        CrmErrorCode.NOT_FOUND,
        _("La fiche de citoyen {pk} n'existe pas.").format(pk=pk),
        field="citizen_id",
        status=404,
    )


def citizen_by_pk(*, pk: int) -> Citizen:
    return Citizen.objects.get(pk=pk)
