"""When a request is due, on the town's business calendar, when to warn before it is, and
where an open request stands against those times."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.db.models import Q

from crm.business_time import WorkingCalendar
from crm.models import OPEN_STATUSES, ServiceType, SlaUnit


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


class SlaState(StrEnum):
    """Where an open request stands against its stored due times (which the business calendar
    produced at intake and on leaving hold): what a queue's badge and its "overdue" filter say.
    """

    BREACHED = "breached"
    PAUSED = "paused"
    DUE_SOON = "due_soon"
    ON_TIME = "on_time"
    NONE = "none"  # finished, or a type without a target


def sla_state(
    *,
    is_open: bool,
    due_at: datetime | None,
    warn_at: datetime | None,
    breached_at: datetime | None,
    paused_at: datetime | None,
    now: datetime,
) -> SlaState:
    """A breach already recorded stays one, even on hold; a request on hold is otherwise
    paused (its due time moves when it resumes), whatever its due time says today."""
    if not is_open or due_at is None:
        return SlaState.NONE
    if breached_at is not None:
        return SlaState.BREACHED
    if paused_at is not None:
        return SlaState.PAUSED
    if due_at <= now:
        return SlaState.BREACHED
    if warn_at is not None and warn_at <= now:
        return SlaState.DUE_SOON
    return SlaState.ON_TIME


def sla_overdue(now: datetime) -> Q:
    """The requests `sla_state` calls breached at `now`, as a query condition."""
    return Q(status__in=OPEN_STATUSES) & (
        Q(sla_breached_at__isnull=False) | Q(sla_paused_at__isnull=True, sla_due_at__lte=now)
    )
