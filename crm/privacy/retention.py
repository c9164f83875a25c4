"""The town's retention rule (Law 25): after `CrmSettings.retention_years`, finished requests
lose their personal data, and people with nothing left within that time are anonymised.

Safe to run again and again: what was done is not done twice, and an interrupted run is
finished by the next one (each batch commits on its own)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import selectors
from crm.models import (
    ANONYMISED_TEXT,
    FINISHED_STATUSES,
    AccessAction,
    Citizen,
    Consent,
    Interaction,
    Notification,
    NotificationStatus,
    ServiceRequest,
)
from crm.privacy.erasure import records_anonymise, requests_scrub
from crm.privacy.records import citizen_record_group
from crm.services import access_log_record

logger = logging.getLogger(__name__)

BATCH = 2000


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    requests: int
    interactions: int
    citizens: int


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def expired_requests(*, cutoff: datetime) -> list[int]:
    """Finished requests (resolved, closed, cancelled, duplicate) since before `cutoff` that
    still hold personal data. A finished request without a closing or resolution date (some
    imports) counts from its creation."""
    return list(
        ServiceRequest.objects.filter(status__in=FINISHED_STATUSES, anonymised_at__isnull=True)
        .annotate(finished_at=Coalesce("closed_at", "resolved_at", "created_at"))
        .filter(finished_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def dormant_citizens(*, cutoff: datetime) -> list[int]:
    """Records (not merged, not anonymised) untouched since `cutoff`, with no request still
    holding personal data, no interaction or consent since, and no active account. Merges move
    everything to the kept record and touch it, so the kept record speaks for its group."""
    return list(
        Citizen.objects.filter(
            anonymised_at__isnull=True,
            merged_into__isnull=True,
            updated_at__lt=cutoff,
        )
        .filter(Q(account__isnull=True) | Q(account__is_active=False))
        .exclude(
            Exists(
                ServiceRequest.objects.filter(citizen=OuterRef("pk"), anonymised_at__isnull=True)
            )
        )
        .exclude(Exists(Interaction.objects.filter(citizen=OuterRef("pk"), created_at__gte=cutoff)))
        .exclude(Exists(Consent.objects.filter(citizen=OuterRef("pk"), recorded_at__gte=cutoff)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def retention_apply(*, now: datetime | None = None) -> RetentionResult:
    """Apply the current town's retention rule (run daily by a task; see `apply_retention`)."""
    now = now or timezone.now()
    years = selectors.crm_settings().retention_years
    cutoff = years_before(now, years)

    request_ids = expired_requests(cutoff=cutoff)
    requests = 0
    for start in range(0, len(request_ids), BATCH):
        batch = request_ids[start : start + BATCH]
        with transaction.atomic():
            scrubbed, _events = requests_scrub(request_ids=batch, detach_citizen=True, now=now)
            Interaction.objects.filter(request_id__in=batch).update(
                summary=ANONYMISED_TEXT, citizen=None
            )
        requests += scrubbed

    with transaction.atomic():
        interactions = (
            Interaction.objects.filter(created_at__lt=cutoff)
            .exclude(summary=ANONYMISED_TEXT, citizen__isnull=True)
            .update(summary=ANONYMISED_TEXT, citizen=None)
        )

    # The copies of the messages sent to people: nothing needs them after the retention period.
    messages, _deleted = (
        Notification.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING])
        .delete()
    )

    with translation.override(settings.LANGUAGE_CODE):
        reason = _("Durée de conservation écoulée ({years} ans)").format(years=years)
    citizens = 0
    for citizen_id in dormant_citizens(cutoff=cutoff):
        with transaction.atomic():
            citizen = Citizen.objects.select_for_update().get(pk=citizen_id)
            if citizen.anonymised_at is not None:
                continue
            group = citizen_record_group(citizen=citizen)
            list(Citizen.objects.select_for_update().filter(pk__in=group).values_list("pk"))
            result = records_anonymise(citizen_ids=group, now=now)
            access_log_record(
                actor=None,
                citizen=citizen,
                action=AccessAction.ERASE,
                purpose=reason,
                context="conservation",
                details=f"{result.records} fiche(s)",
            )
        citizens += 1
    logger.info(
        "retention applied: years=%s requests=%s interactions=%s citizens=%s messages=%s",
        years,
        requests,
        interactions,
        citizens,
        messages,
    )
    return RetentionResult(
        cutoff=cutoff, requests=requests, interactions=interactions, citizens=citizens
    )
