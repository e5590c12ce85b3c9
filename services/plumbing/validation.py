"""Loading request bodies and queries through marshmallow, failing with field-level messages."""
from marshmallow import ValidationError

from .errors import ValidationFailed, fields_from_marshmallow

# Building a schema deep-copies its declared fields (a few per cent of a registration's CPU);
# loading keeps no state on the instance, so one instance per (class, options) serves every call.
_schemas: dict = {}


def schema_instance(schema_cls, **schema_kwargs):
    try:
        key = (schema_cls, tuple(sorted(schema_kwargs.items())))
        hash(key)
    except TypeError:   # options that cannot be a key (a list of fields): not kept
        return schema_cls(**schema_kwargs)
    schema = _schemas.get(key)
    if schema is None:
        schema = _schemas[key] = schema_cls(**schema_kwargs)
    return schema


def load(schema_cls, data, **schema_kwargs):
    """Validate a body or query; unknown fields are rejected (marshmallow's default)."""
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", {"_schema": ["expected a JSON object"]})
    try:
        return schema_instance(schema_cls, **schema_kwargs).load(data)
    except ValidationError as exc:
        raise ValidationFailed("invalid input", fields_from_marshmallow(exc.messages)) from None
