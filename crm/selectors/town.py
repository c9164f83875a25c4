"""The town's CRM settings and business calendar, and its activity for the console."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils.translation import gettext as _

from crm.business_time import WorkingCalendar
from crm.errors import CrmError, CrmErrorCode
from crm.models import (
    BusinessCalendar,
    CrmSettings,
    Interaction,
    ServiceRequest,
)

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
    """The town's calendar as a value (three queries).

    Raises CrmError when it cannot compute anything (no working day, unknown time zone).
    """
    calendar, _created = BusinessCalendar.objects.get_or_create(pk=1)
    hours = {h.weekday: (h.opens_at, h.closes_at) for h in calendar.working_hours.all()}
    closures = frozenset(calendar.closures.values_list("date", flat=True))
    try:
        tz = ZoneInfo(calendar.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le fuseau horaire du calendrier de travail ({zone}) est inconnu.").format(
                zone=calendar.time_zone
            ),
            status=500,
        ) from error
    if not hours:
        raise CrmError(
            CrmErrorCode.CALENDAR_MISCONFIGURED,
            _("Le calendrier de travail n'a aucune heure d'ouverture : ajoutez-en une."),
            status=500,
        )
    return WorkingCalendar(
        tz=tz,
        hours=hours,
        closures=closures,
        quebec_holidays=calendar.quebec_holidays,
    )


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
