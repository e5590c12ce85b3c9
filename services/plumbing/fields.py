"""marshmallow fields shared by every API schema."""
from datetime import UTC, date, datetime

from marshmallow import ValidationError, fields


class UtcDateTime(fields.AwareDateTime):
    """An ISO-8601 moment with its offset, loaded as UTC. Years before 1900 are refused: no
    record here is that old, and PostgreSQL refuses some historic offsets (beyond ±15:59)."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("is out of range") from None
        if not 1900 <= moment.year <= 9999:
            raise ValidationError("must be between the years 1900 and 9999")
        return moment


EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2100, 12, 31)


class Day(fields.Date):
    """A calendar day (ISO-8601) in a plausible range: from 1900-01-01 to 2100-12-31, or, with
    `years_ahead`, to the end of the year that many years after this one in China (a
    planned activity, a service day). 0001-01-01 or 9999-12-31 are a caller's typo, never a date this platform records,
    and at the edges of the calendar date arithmetic (ages, deadlines) overflows."""

    def __init__(self, *, years_ahead: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.years_ahead = years_ahead

    def latest(self) -> date:
        if self.years_ahead is None:
            return LATEST_DAY
        from .clock import today_in_china
        return min(LATEST_DAY, date(today_in_china().year + self.years_ahead, 12, 31))

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        latest = self.latest()
        if not EARLIEST_DAY <= day <= latest:
            raise ValidationError(f"must be between {EARLIEST_DAY} and {latest}")
        return day


class StrictDecimal(fields.Decimal):
    """A JSON number (never a string, never a boolean) loaded as a Decimal: what the document
    declares as a number is taken only as one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
