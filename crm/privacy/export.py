"""Export of everything the town holds on one person (Law 25: access and portability)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from crm.models import AccessAction, Citizen, ServiceRequest
from crm.privacy.records import citizen_data, citizen_record_group, person_copy
from crm.services import access_log_record
from tenants.accounts.models import User

logger = logging.getLogger(__name__)


def citizen_export(
    *,
    actor: User | None,
    citizen: Citizen,
    purpose: str,
    context: str,
    for_person: bool = False,
) -> dict[str, Any]:
    """The person's data as a JSON-ready document (see `citizen_data`). The export is written
    to the access log first, with its purpose, so the document lists its own export.
    `for_person`: the copy the person downloads themself, without the review of the privacy
    officer (see `person_copy`: nothing about other people or the staff).

    Raises CrmError `purpose_required` without a purpose (and then nothing is logged)."""
    with transaction.atomic():
        group = citizen_record_group(citizen=citizen)
        kept = Citizen.objects.get(pk=group[0])
        requests = ServiceRequest.objects.filter(citizen_id__in=group).count()
        access_log_record(
            actor=actor,
            citizen=kept,
            action=AccessAction.EXPORT,
            purpose=purpose,
            context=context,
            details=f"JSON, {len(group)} fiche(s), {requests} requête(s)",
        )
        document = citizen_data(citizen=kept)
        if for_person:
            document = person_copy(document)
    logger.info("citizen exported: citizen=%s", kept.pk)
    return document
