"""The event envelope every service publishes and consumes.

    {"event_id": uuid, "event_type": "member_registered", "version": 1,
     "occurred_at": "2026-11-21T08:00:00.123456+00:00", "producer": "members",
     "data": {...}}

`data` holds plain JSON values only (decimals as strings, dates as ISO strings): each service's
events module dumps payloads with marshmallow before they reach the outbox.
"""
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

ENVELOPE_KEYS = ("event_id", "event_type", "version", "occurred_at", "producer", "data")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_envelope(producer: str, event_type: str, version: int, data: dict) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": version,
        "occurred_at": utcnow().isoformat(),
        "producer": producer,
        "data": data,
    }


class MalformedEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class ReceivedEvent:
    """An envelope as a handler sees it, plus the name of the consumer that is handling it
    (`service.method`), which is the key of its idempotency record."""
    event_id: str
    event_type: str
    version: int
    occurred_at: str
    producer: str
    data: dict
    consumer: str = field(default="")

    @classmethod
    def from_envelope(cls, body, consumer: str) -> "ReceivedEvent":
        if not isinstance(body, dict) or any(key not in body for key in ENVELOPE_KEYS):
            raise MalformedEnvelope(f"not an event envelope: {str(body)[:200]}")
        return cls(consumer=consumer, **{key: body[key] for key in ENVELOPE_KEYS})
