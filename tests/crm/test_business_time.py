"""Business time on a Québec calendar: evenings, weekends, holidays, closures, time changes."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from crm.business_time import STANDARD_HOURS, WorkingCalendar, quebec_statutory_holidays

TZ = ZoneInfo("America/Toronto")
CAL = WorkingCalendar(tz=TZ, hours=STANDARD_HOURS)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_quebec_holidays_of_2026_in_french():
    assert quebec_statutory_holidays(2026) == {
        date(2026, 1, 1): "Jour de l'an",
        date(2026, 4, 3): "Vendredi saint",
        date(2026, 5, 18): "Journée nationale des patriotes",
        date(2026, 6, 24): "Fête nationale du Québec",
        date(2026, 7, 1): "Fête du Canada",
        date(2026, 9, 7): "Fête du Travail",
        date(2026, 10, 12): "Action de grâce",
        date(2026, 12, 25): "Jour de Noël",
    }


def test_24_june_and_1_july_on_a_sunday_move_to_the_monday():
    days = quebec_statutory_holidays(2029)  # both fall on a Sunday in 2029
    assert date(2029, 6, 24) not in days
    assert days[date(2029, 6, 25)] == "Fête nationale du Québec"
    assert date(2029, 7, 1) not in days
    assert days[date(2029, 7, 2)] == "Fête du Canada"
    assert not CAL.is_working_day(date(2029, 6, 25))
    assert not CAL.is_working_day(date(2029, 7, 2))


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (at(2026, 11, 23, 9, 0), 120, at(2026, 11, 23, 11, 0)),  # within a day
        (at(2026, 11, 23, 15, 30), 120, at(2026, 11, 24, 9, 30)),  # across the evening
        (at(2026, 11, 23, 20, 0), 60, at(2026, 11, 24, 9, 30)),  # made in the evening
        (at(2026, 11, 27, 16, 0), 60, at(2026, 11, 30, 9, 0)),  # across the weekend
        (at(2026, 11, 28, 10, 0), 30, at(2026, 11, 30, 9, 0)),  # made on Saturday
        (at(2026, 12, 24, 16, 0), 60, at(2026, 12, 28, 9, 0)),  # Christmas, then the weekend
        (at(2026, 6, 23, 16, 0), 60, at(2026, 6, 25, 9, 0)),  # Fête nationale
        (at(2026, 11, 23, 8, 30), 0, at(2026, 11, 23, 8, 30)),
    ],
)
def test_adding_working_minutes(start, minutes, due):
    assert CAL.add_minutes(start, minutes) == due


def test_the_fall_time_change_does_not_shift_working_hours():
    # 1 November 2026: clocks go back at 2:00. Friday 30 Oct 16:00 EDT + 2 working hours.
    due = CAL.add_minutes(at(2026, 10, 30, 16, 0), 120)
    assert due == at(2026, 11, 2, 10, 0)
    assert due.utcoffset().total_seconds() == -5 * 3600  # EST after the change
    assert due.astimezone(ZoneInfo("UTC")).hour == 15


def test_the_spring_time_change_does_not_shift_working_hours():
    # 8 March 2026: clocks go forward at 2:00.
    due = CAL.add_minutes(at(2026, 3, 6, 16, 0), 60)
    assert due == at(2026, 3, 9, 9, 0)
    assert due.utcoffset().total_seconds() == -4 * 3600


def test_a_utc_start_is_read_in_the_towns_time():
    start = datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("UTC"))  # 9:00 in Montréal
    assert CAL.add_minutes(start, 60) == at(2026, 11, 23, 10, 0)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(2026, 11, 23, 10, 15), 2, at(2026, 11, 25, 10, 15)),
        (at(2026, 11, 27, 10, 0), 1, at(2026, 11, 30, 10, 0)),  # Friday → Monday
        (at(2026, 11, 27, 19, 0), 1, at(2026, 12, 1, 8, 30)),  # Friday evening → Tuesday opening
        (at(2026, 11, 23, 7, 0), 1, at(2026, 11, 24, 8, 30)),  # before opening
        (
            at(2026, 12, 23, 11, 0),
            2,
            at(2026, 12, 28, 11, 0),
        ),  # 24 Dec works; 25 and weekend skipped
        (at(2026, 10, 30, 11, 0), 1, at(2026, 11, 2, 11, 0)),  # across the fall time change
    ],
)
def test_adding_working_days(start, days, due):
    assert CAL.add_days(start, days) == due


def test_closure_days_and_custom_hours_are_honoured():
    calendar = WorkingCalendar(
        tz=TZ,
        hours={0: (time(8, 0), time(12, 0)), 2: (time(13, 0), time(17, 0))},
        closures=frozenset({date(2026, 11, 25)}),
    )
    # Monday 11:00 + 2 h: one hour Monday, Wednesday is closed, next Monday 8:00 + 1 h.
    assert calendar.add_minutes(at(2026, 11, 23, 11, 0), 120) == at(2026, 11, 30, 9, 0)


def test_minutes_between_counts_only_working_time():
    assert CAL.minutes_between(at(2026, 11, 27, 16, 0), at(2026, 11, 30, 9, 0)) == 60
    assert CAL.minutes_between(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 9, 0)) == 0
    assert CAL.minutes_between(at(2026, 11, 24, 9, 0), at(2026, 11, 23, 9, 0)) == 0
    assert CAL.minutes_between(at(2026, 12, 24, 8, 0), at(2026, 12, 28, 23, 0)) == 2 * 8 * 60


def test_a_calendar_without_working_hours_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="no working"):
        WorkingCalendar(tz=TZ, hours={}).add_minutes(at(2026, 11, 23, 9, 0), 60)
