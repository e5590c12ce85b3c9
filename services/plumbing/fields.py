"""marshmallow fields shared by every API schema."""
from datetime import datetime, timezone

from marshmallow import ValidationError, fields


class UtcDateTime(fields.AwareDateTime):
    """An ISO-8601 moment with its offset, loaded as UTC. Years before 1900 are refused: no
    record here is that old, and PostgreSQL refuses some historic offsets (beyond ±15:59)."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise ValidationError("is out of range")
        if not 1900 <= moment.year <= 9999:
            raise ValidationError("must be between the years 1900 and 9999")
        return moment
