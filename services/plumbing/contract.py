"""Event contracts: each event type has a name, a version and a marshmallow payload schema.

Producers dump through the schema (so `data` holds plain JSON: decimals as strings, datetimes
as ISO strings); consumers load through it. Consumers ignore unknown payload keys so that a
producer may add fields within a version.
"""
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from marshmallow import EXCLUDE, Schema, fields

from .envelope import ReceivedEvent, new_envelope
from .validation import schema_instance


class ContractMismatch(ValueError):
    pass


@dataclass(frozen=True)
class EventContract:
    producer: str
    event_type: str
    version: int
    schema: type[Schema]

    def envelope(self, payload: dict) -> dict:
        return self.envelopes([payload])[0]

    def envelopes(self, payloads: list[dict]) -> list[dict]:
        """One envelope per payload, dumped by the schema and checked against it. A bulk import
        emits thousands, so for a schema of plain fields (see _plain_fields) each shape of
        payload (its keys and their values' types) goes through the schema once: for such
        fields the dump of a value of the right type is the value or its ISO form, and always
        loads back, so the payloads of a shape that passed are dumped as the first one was
        (checked: the first one's plain dump must equal the schema's) and pass too. What a
        shape showed is kept for later calls: most emit one event, and a schema's dump and
        validation cost a registration more than its INSERT of the event (issue 13)."""
        schema = schema_instance(self.schema)
        plain = _plain_fields(self.schema)
        passed = _passed_shapes.setdefault(self.schema, {})  # shape -> plain dump equals the schema's
        data = []
        for payload in payloads:
            shape = _shape(plain, payload)
            if passed.get(shape):
                data.append(_plain_dump(plain, payload))
                continue
            item = schema.dump(payload)
            errors = schema.validate(item)
            if errors:
                raise ContractMismatch(f"{self.event_type} payload does not match its contract: {errors}")
            if shape is not None:
                passed[shape] = _plain_dump(plain, payload) == item
            data.append(item)
        return [new_envelope(self.producer, self.event_type, self.version, item) for item in data]

    def load(self, event: ReceivedEvent) -> dict:
        if event.event_type != self.event_type or event.version != self.version:
            raise ContractMismatch(
                f"expected {self.event_type} v{self.version}, got {event.event_type} v{event.version}")
        return schema_instance(self.schema, unknown=EXCLUDE).load(event.data)


# Per payload schema: each shape of payload seen (see EventContract.envelopes) and whether its
# plain dump equals the schema's. Bounded: a shape is a subset of the schema's fields, each
# with one of a few types.
_passed_shapes: dict[type[Schema], dict[tuple, bool]] = {}

# Field classes whose dump of a value of these types always loads back (checked by the test of
# this module); a subclass may add rules, so only these classes exactly.
_ROUND_TRIPS = {fields.String: (str,), fields.Integer: (int,), fields.Boolean: (bool,),
                fields.DateTime: (datetime,), fields.Date: (date,)}


@cache
def _plain_fields(schema_cls: type[Schema]) -> dict | None:
    """{field name: the value types that round-trip} when every field of the schema is plain:
    one of _ROUND_TRIPS, without validators, hooks, own format or renaming; else None."""
    schema = schema_cls()
    if any(getattr(schema, "_hooks", {None: [None]}).values()):  # hooks, or unknown insides
        return None
    plain = {}
    for name, field in schema.fields.items():
        types = _ROUND_TRIPS.get(type(field))
        if (types is None or field.validators or getattr(field, "pre_load", True)
                or getattr(field, "post_load", True)
                or field.load_only or field.dump_only
                or field.data_key not in (None, name) or field.attribute not in (None, name)
                or getattr(field, "format", None) not in (None, "iso")):
            return None
        plain[name] = types
    return plain


def _shape(plain: dict | None, payload: dict) -> tuple | None:
    """The payload's keys and value types when each value is of a type that round-trips (or
    None where the field allows it); None when the payload must be checked on its own."""
    if plain is None or not isinstance(payload, dict):
        return None
    shape = []
    for key, value in payload.items():
        types = plain.get(key)
        if types is None:
            return None
        kind = type(value)  # exactly: a bool is no Integer's int, a datetime no Date's date
        if kind not in types and value is not None:
            return None
        shape.append((key, kind))
    return tuple(shape)


def _plain_dump(plain: dict, payload: dict) -> dict:
    """What the schema dumps of a payload of plain fields, in the schema's order of fields."""
    return {name: (value.isoformat() if isinstance(value, date) else value)  # datetimes too
            for name in plain if (value := payload.get(name, _MISSING)) is not _MISSING}


_MISSING = object()
