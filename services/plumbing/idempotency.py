"""Idempotent event handling: each consumer records the events it has applied, in the same
transaction as the effect, so a redelivered event has no second effect."""
from sqlalchemy import insert, select

from .db import Transaction
from .envelope import ReceivedEvent, utcnow


def record_first_delivery(tx: Transaction, event: ReceivedEvent) -> bool:
    """True if this consumer has not applied this event yet (and records it now); False for a
    redelivery. Two concurrent deliveries both see True, but only one commit succeeds: the
    other fails on the primary key, is retried, and then sees False."""
    table = tx._tables.processed_events
    seen = tx.session.execute(
        select(table.c.event_id).where(table.c.consumer == event.consumer,
                                       table.c.event_id == event.event_id)
    ).first()
    if seen:
        return False
    tx.session.execute(insert(table).values(
        consumer=event.consumer, event_id=event.event_id, processed_at=utcnow()))
    return True
