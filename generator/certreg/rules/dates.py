"""Date arithmetic the rules need: calendar months, and Chinese working days (工作日).

Working days come from the maintained ``chinesecalendar`` package (statutory
holidays and the weekend days worked in their place, year by year). It knows a
fixed range of years; outside it we say so (``CalendarUnknown``) instead of guessing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

import chinese_calendar

DAY = dt.timedelta(days=1)
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # the certificates' dates are dates in China (no DST)


def today() -> dt.date:
    """Today's date in China, whatever the machine's time zone (the verification pages' script uses it too)."""
    return dt.datetime.now(CHINA).date()


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day (2024-01-31 + 1 month = 2024-02-29)."""
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def anniversary(d: dt.date, years: int) -> dt.date:
    """The same date ``years`` later; 29 February's anniversary in a common year is 1 March.

    A term of N years from ``d`` ends the day before (2024-02-29 + 3 years: last day 2027-02-28).
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return dt.date(d.year + years, 3, 1)


class CalendarUnknown(Exception):
    """Raised by ``add_working_days`` when a date lies outside the years the holiday calendar knows."""

    def __init__(self, day: dt.date):
        first, last = calendar_years()
        super().__init__(
            f"the Chinese holiday calendar (chinesecalendar {chinese_calendar.__version__}) knows "
            f"{first}–{last} only, not {day.year}; update the chinesecalendar package")


# The three functions below are cached: they are written undecorated and wrapped after, so that a mutation run
# (bench/mutation.py: mutmut mutates no decorated function) changes their bodies too.

def _calendar_years() -> tuple[int, int]:
    """First and last year the installed holiday calendar covers."""
    days = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
    return min(days).year, max(days).year


def _is_working_day(d: dt.date) -> bool:
    first, last = calendar_years()
    if not first <= d.year <= last:
        raise CalendarUnknown(d)
    return chinese_calendar.is_workday(d)


def _add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself not counted)."""
    d = start
    left = n
    while left:
        d += DAY
        if is_working_day(d):
            left -= 1
    return d


calendar_years = lru_cache(maxsize=1)(_calendar_years)
is_working_day = lru_cache(maxsize=65536)(_is_working_day)
add_working_days = lru_cache(maxsize=65536)(_add_working_days)


def working_days_after(start: dt.date, end: dt.date) -> int:
    """How many working days lie after ``start`` up to ``end`` included (0 when ``end`` is not after ``start``):
    how late a decision taken on ``end`` is, for a deadline that ended on ``start``."""
    n = 0
    d = start
    while d < end:
        d += DAY
        n += is_working_day(d)
    return n
