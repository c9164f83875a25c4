"""When a request is due, on the town's business calendar, and when to warn before it is."""

from __future__ import annotations

from datetime import datetime

from crm.business_time import WorkingCalendar
from crm.models import ServiceType, SlaUnit


def sla_deadlines(
    *,
    service_type: ServiceType,
    start: datetime,
    calendar: WorkingCalendar,
    warning_ratio: int,
) -> tuple[datetime | None, datetime | None]:
    """The due time of a request of `service_type` received at `start`, and the moment
    `warning_ratio` per cent of the working time until then is used; (None, None) for a type
    without a target."""
    if not service_type.sla_value:
        return None, None
    if service_type.sla_unit == SlaUnit.HOURS:
        due = calendar.add_minutes(start, service_type.sla_value * 60)
    else:
        due = calendar.add_days(start, service_type.sla_value)
    minutes = calendar.minutes_between(start, due) * warning_ratio // 100
    return due, calendar.add_minutes(start, minutes)
