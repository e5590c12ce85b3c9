"""The one "today" of the platform: the calendar day in China (Beijing time, UTC+8 all year, no
daylight saving). Deadlines, campaign days, "not in the future" checks and ages are all days
there, whatever time zone a server runs in: between 00:00 and 08:00 Beijing time a UTC server's
own date is still yesterday.

`today_in_china()` reads the clock through `envelope.utcnow` at each call, so a test can stop
the clock for every service at once by replacing that one function."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import envelope
from .pagination import as_utc

CHINA = ZoneInfo("Asia/Shanghai")


def china_date(moment: datetime) -> date:
    """The day in China at a moment (a naive moment is taken as UTC, as the databases store it)."""
    return as_utc(moment).astimezone(CHINA).date()


def today_in_china() -> date:
    return china_date(envelope.utcnow())
