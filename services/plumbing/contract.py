"""Event contracts: each event type has a name, a version and a marshmallow payload schema.

Producers dump through the schema (so `data` holds plain JSON: decimals as strings, datetimes
as ISO strings); consumers load through it. Consumers ignore unknown payload keys so that a
producer may add fields within a version.
"""
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema

from .envelope import ReceivedEvent, new_envelope


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
        """One envelope per payload, all checked by one schema (a bulk import emits thousands:
        a schema per event would cost more than the import itself)."""
        schema = self.schema()
        data = schema.dump(payloads, many=True)
        errors = schema.validate(data, many=True)
        if errors:
            raise ContractMismatch(f"{self.event_type} payload does not match its contract: {errors}")
        return [new_envelope(self.producer, self.event_type, self.version, item) for item in data]

    def load(self, event: ReceivedEvent) -> dict:
        if event.event_type != self.event_type or event.version != self.version:
            raise ContractMismatch(
                f"expected {self.event_type} v{self.version}, got {event.event_type} v{event.version}")
        return self.schema(unknown=EXCLUDE).load(event.data)
