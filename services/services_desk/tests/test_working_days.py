"""Deadline arithmetic on the official calendar: statutory holidays, 调休 make-up working days,
and years beyond chinese-calendar's data (an entered schedule, or weekends only, flagged)."""
from datetime import date

import pytest

from services.services_desk.working_days import KnownSchedule, WorkingCalendar, chinese_calendar_knows, warning_day

CALENDAR = WorkingCalendar()


def test_national_day_2026_with_its_make_up_saturday():
    # Received Tue 29 Sep: 30 Sep (1); 1-7 Oct holiday; 8 (2), 9 (3), Sat 10 Oct 调休 (4), 12 (5).
    deadline = CALENDAR.add_working_days(date(2026, 9, 29), 5)
    assert deadline.day == date(2026, 10, 12) and not deadline.estimated
    # Weekends only would have said 6 Oct: the holiday matters.
    assert WorkingCalendar().is_working_day(date(2026, 10, 10)) == (True, False)
    assert WorkingCalendar().is_working_day(date(2026, 10, 6)) == (False, False)


def test_spring_festival_2026_counts_the_make_up_saturday_before_it():
    # Received Fri 13 Feb: Sat 14 Feb is a working day (1); 15-23 Feb off; 24 (2), 25 (3).
    assert CALENDAR.add_working_days(date(2026, 2, 13), 3).day == date(2026, 2, 25)


def test_counting_starts_the_day_after_receipt():
    # Received on a Monday: the first working day is Tuesday.
    assert CALENDAR.add_working_days(date(2026, 11, 16), 1).day == date(2026, 11, 17)
    # Received on a Friday: the weekend does not count.
    assert CALENDAR.add_working_days(date(2026, 11, 20), 1).day == date(2026, 11, 23)


def test_beyond_chinese_calendar_weekends_only_and_flagged_estimated():
    assert not chinese_calendar_knows(date(2027, 1, 4))
    # Received Mon 28 Dec 2026, 5 days: 29, 30, 31 Dec, Fri 1 Jan 2027 (unknown: counted), 4 Jan.
    deadline = CALENDAR.add_working_days(date(2026, 12, 28), 5)
    assert deadline.day == date(2027, 1, 4) and deadline.estimated


def test_an_entered_schedule_for_2027_is_used_and_not_estimated():
    schedule = KnownSchedule(days={date(2027, 1, 1): False, date(2027, 1, 9): True},
                             years=frozenset({2027}))
    calendar = WorkingCalendar(schedule)
    # 29, 30, 31 Dec; 1 Jan is a holiday; 4, 5, 6, 7, 8 Jan; Sat 9 Jan a make-up day.
    deadline = calendar.add_working_days(date(2026, 12, 28), 9)
    assert deadline.day == date(2027, 1, 9) and not deadline.estimated


def test_a_year_entered_without_special_days_is_known_but_plain():
    calendar = WorkingCalendar(KnownSchedule(years=frozenset({2027})))
    assert calendar.add_working_days(date(2027, 3, 1), 1).estimated is False


@pytest.mark.parametrize("total, share, expected", [
    (5, 0.8, date(2026, 10, 10)),   # the 4th working day: the make-up Saturday
    (5, 0.01, date(2026, 9, 30)),   # at least the first day
    (5, 1.0, date(2026, 10, 12)),
])
def test_the_warning_day_is_the_working_day_the_share_is_used_on(total, share, expected):
    assert warning_day(CALENDAR, date(2026, 9, 29), total, share) == expected


def test_working_days_between_counts_the_clock_used():
    assert CALENDAR.working_days_between(date(2026, 9, 29), date(2026, 10, 10)) == 4
