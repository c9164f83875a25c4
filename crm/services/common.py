"""What every CRM write shares: who is recorded as the author, and which citizen record a write
may attach to."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.errors import CrmError, CrmErrorCode
from crm.models import Citizen
from tenants.accounts.models import User

# A merge chain longer than this is a data error, not a reason to loop forever.
MERGE_HOPS_MAX = 10


def author_of(actor: User | None) -> User | None:
    """The user to record as author: nobody for anonymous or system actions."""
    return actor if actor is not None and actor.is_authenticated else None


def citizen_standing_for(citizen: Citizen | None) -> Citizen | None:
    """A merged record stands for the one it was merged into.

    Raises CrmError `citizen_anonymised` for an anonymised record: nothing new is attached to
    a person the town no longer identifies."""
    hops = 0
    while citizen is not None and citizen.merged_into_id is not None and hops < MERGE_HOPS_MAX:
        citizen = Citizen.objects.get(pk=citizen.merged_into_id)
        hops += 1
    if citizen is not None:
        refuse_anonymised(citizen)
    return citizen


def refuse_anonymised(citizen: Citizen) -> None:
    if citizen.anonymised_at is not None:
        raise CrmError(
            CrmErrorCode.CITIZEN_ANONYMISED,
            _("Cette fiche de citoyen a été anonymisée : elle ne peut plus être modifiée ni liée."),
            field="citizen",
            status=409,
        )
