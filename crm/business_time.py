"""Business time on a town's calendar: working hours, Québec statutory holidays, closures.

Pure functions over a `WorkingCalendar` value; `crm.selectors.working_calendar()` builds one
from the town's settings. Every datetime returned is aware, in the calendar's time zone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

# A target that cannot be met within ten years is a configuration error, not a loop.
_MAX_DAYS_SCANNED = 3660


@functools.lru_cache(maxsize=64)
def quebec_statutory_holidays(year: int) -> dict[date, str]:
    """Québec's statutory holidays of `year`, in French, with the Sunday rules applied.

    The `holidays` package gives the dates without observance; Québec law moves the Fête
    nationale (24 June) and Canada Day (1 July) to the Monday when they fall on a Sunday.
    """
    days = dict(holidays.CA(subdiv="QC", observed=False, years=year, language="fr").items())
    for month, day in ((6, 24), (7, 1)):
        statutory = date(year, month, day)
        if statutory.weekday() == 6 and statutory in days:
            days[statutory + timedelta(days=1)] = days.pop(statutory)
    return days


@dataclass(frozen=True)
class WorkingCalendar:
    tz: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday (0 = Monday) → opening, closing
    closures: frozenset[date] = field(default_factory=frozenset)
    quebec_holidays: bool = True

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.hours or day in self.closures:
            return False
        return not (self.quebec_holidays and day in quebec_statutory_holidays(day.year))

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing of `day` as aware datetimes, or None on a closed day."""
        if not self.is_working_day(day):
            return None
        opens, closes = self.hours[day.weekday()]
        return (
            datetime.combine(day, opens, tzinfo=self.tz),
            datetime.combine(day, closes, tzinfo=self.tz),
        )

    def next_working_day(self, day: date) -> date:
        for offset in range(1, _MAX_DAYS_SCANNED):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day within ten years: the calendar has no working hours")

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment `minutes` of working time after `start`."""
        current = start.astimezone(self.tz)
        remaining = timedelta(minutes=minutes)
        day = current.date()
        for _ in range(_MAX_DAYS_SCANNED):
            window = self.window(day)
            if window is not None:
                opens, closes = window
                begin = max(current, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
            current = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ValueError("no working time within ten years: the calendar has no working hours")

    def add_days(self, start: datetime, days: int) -> datetime:
        """`days` working days after `start`, at the same working time of day.

        A start outside working hours counts from the next opening: a request made on Friday
        evening with a one-day target is due on Tuesday at opening time.
        """
        local = start.astimezone(self.tz)
        window = self.window(local.date())
        if window is not None and local < window[1]:
            day, anchor = local.date(), max(local, window[0]).timetz().replace(tzinfo=None)
        else:
            day = self.next_working_day(local.date())
            anchor = self.hours[day.weekday()][0]
        for _ in range(days):
            day = self.next_working_day(day)
        opens, closes = self.window(day)  # type: ignore[misc]
        return min(max(datetime.combine(day, anchor, tzinfo=self.tz), opens), closes)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes between two moments (0 if `end` is not after `start`)."""
        start, end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            window = self.window(day)
            if window is not None:
                begin, finish = max(start, window[0]), min(end, window[1])
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)


STANDARD_HOURS: dict[int, tuple[time, time]] = {
    weekday: (time(8, 30), time(16, 30)) for weekday in range(5)
}
