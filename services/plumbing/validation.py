"""Loading request bodies and queries through marshmallow, failing with field-level messages."""
from marshmallow import ValidationError

from .errors import ValidationFailed, fields_from_marshmallow


def load(schema_cls, data, **schema_kwargs):
    """Validate a body or query; unknown fields are rejected (marshmallow's default)."""
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", {"_schema": ["expected a JSON object"]})
    try:
        return schema_cls(**schema_kwargs).load(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid input", fields_from_marshmallow(exc.messages)) from None
