"""Working days on the official calendar (法定节假日 and 调休 make-up working days).

Plain Python, no database: the caller hands in the schedule entered for years chinese-calendar
does not know (a `KnownSchedule`). Three sources, in order:
  1. chinese-calendar, for the years it has the State Council's schedule of;
  2. the schedule an admin entered for a later year (calendar_days / calendar_years tables);
  3. otherwise weekends only, and the answer is flagged `estimated`.
"""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

# Deadlines are days in China; the day and its zone come from services.plumbing.clock.
from services.plumbing.clock import CHINA  # noqa: F401  (imported from here by older code)


@lru_cache(maxsize=8192)
def chinese_calendar_workday(day: date) -> bool | None:
    """chinese-calendar's answer for `day`, None for a year it does not know. Remembered: a
    deadline counts up to sixty days, one by one, and the library checks its arguments on every
    call (a quarter of a desk request's CPU under load before this; issue 13)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def chinese_calendar_knows(day: date) -> bool:
    return chinese_calendar_workday(day) is not None


def chinese_calendar_year(year: int) -> tuple[dict, dict]:
    """chinese-calendar's schedule of `year`: ({day: name} of statutory holidays, {day: name}
    of 调休 make-up working days). Empty for a year it does not know."""
    holidays = {d: name for d, name in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: name for d, name in chinese_calendar.workdays.items() if d.year == year}
    return holidays, workdays


@dataclass(frozen=True)
class KnownSchedule:
    """What an admin entered for years beyond chinese-calendar: {day: working?} and the years."""
    days: dict = field(default_factory=dict)
    years: frozenset = frozenset()


@dataclass(frozen=True)
class Deadline:
    day: date
    estimated: bool   # some day of the count fell in a year nobody knows the schedule of


class WorkingCalendar:
    def __init__(self, schedule: KnownSchedule | None = None):
        self.schedule = schedule or KnownSchedule()

    def is_working_day(self, day: date) -> tuple[bool, bool]:
        """(working?, estimated?)"""
        known = chinese_calendar_workday(day)
        if known is not None:
            return known, False
        if day.year in self.schedule.years:
            if day in self.schedule.days:
                return self.schedule.days[day], False
            return day.weekday() < 5, False
        return day.weekday() < 5, True

    def add_working_days(self, received_on: date, count: int) -> Deadline:
        """The `count`-th working day counted from the day after `received_on` (count >= 1)."""
        day, found, estimated = received_on, 0, False
        while found < count:
            day += timedelta(days=1)
            working, guessed = self.is_working_day(day)
            estimated = estimated or guessed
            if working:
                found += 1
        return Deadline(day, estimated)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how much of the clock has run by the end of `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day)[0]:
                count += 1
        return count


def warning_day(calendar: WorkingCalendar, started_on: date, total_days: int,
                share: float) -> date:
    """The working day on which `share` of `total_days` is used up (at least the first)."""
    used = max(1, min(total_days, math.ceil(total_days * share)))
    return calendar.add_working_days(started_on, used).day


def days_off_between(calendar: WorkingCalendar, start: date, end: date) -> list[date]:
    """The days in (start, end] that the count skipped (weekends, holidays)."""
    days, day = [], start
    while day < end:
        day += timedelta(days=1)
        if not calendar.is_working_day(day)[0]:
            days.append(day)
    return days
