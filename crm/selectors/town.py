"""The town's CRM settings and business calendar, and its activity for the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Max

from crm.business_time import WorkingCalendar
from crm.models import (
    CrmSettings,
    Interaction,
    ServiceRequest,
)
from crm.selectors.town_config import town_config

__all__ = [
    "TownActivity",
    "crm_settings",
    "town_activity",
    "working_calendar",
]


def crm_settings() -> CrmSettings:
    settings, _created = CrmSettings.objects.get_or_create(pk=1)
    return settings


def working_calendar() -> WorkingCalendar:
    """The town's calendar as a value: the process's copy, checked in one query
    (crm/selectors/town_config.py).

    Raises CrmError when it cannot compute anything (no working day, unknown time zone).
    """
    return town_config().calendar


@dataclass(frozen=True)
class TownActivity:
    staff_count: int
    requests_since: int
    last_activity_at: datetime | None


def town_activity(*, since: datetime) -> TownActivity:
    """The current town's figures for the platform's rollup: active staff accounts, requests
    created since `since`, and the time of the latest request, event or interaction."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).count()
    created = ServiceRequest.objects.filter(created_at__gte=since).count()
    latest = [
        ServiceRequest.objects.aggregate(at=Max("updated_at"))["at"],
        Interaction.objects.aggregate(at=Max("created_at"))["at"],
    ]
    known = [at for at in latest if at is not None]
    return TownActivity(
        staff_count=staff, requests_since=created, last_activity_at=max(known) if known else None
    )
