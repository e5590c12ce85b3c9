"""Idempotency, both ways in:

* events: each consumer records the events it has applied, in the same transaction as the
  effect, so a redelivered event has no second effect (`record_first_delivery`);
* requests: an RPC that carries a client's Idempotency-Key runs once; its reply is stored in the
  same transaction as its change, and a retry with the same key and the same arguments gets
  that reply again, with another body a 409 (`run_once`).
"""
import hashlib
import json
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import Transaction, UnitOfWork
from .envelope import ReceivedEvent, utcnow
from .errors import Conflict
from .together import insert_new


def record_first_delivery(tx: Transaction, event: ReceivedEvent) -> bool:
    """True if this consumer has not applied this event yet (and records it now); False for a
    redelivery. One statement: the primary key answers (no SELECT first). Of two concurrent
    deliveries the second waits for the first's transaction: if that commits, it sees False;
    if it rolls back, the second goes on as the first.

    In a batch (`tx.event_batch`), the first call records every event of the batch in one
    statement and later calls are answered from it: one round trip a batch instead of one an
    event (issue 13). Every batched handler calls this for each of its events; if the batch
    fails, its rollback takes the records back with everything else."""
    if tx.event_batch:
        if tx.first_deliveries is None:
            tx.first_deliveries = _record_batch(tx, tx.event_batch)
        first = tx.first_deliveries.pop(event.event_id, None)
        if first is not None:
            return first
        # not in the batch, or the batch's second copy of one event: on its own below
    return _record_batch(tx, [event])[event.event_id]


def _record_batch(tx: Transaction, events: list[ReceivedEvent]) -> dict[str, bool]:
    """{event id: first delivery?} for a batch's events, recorded in one multi-row INSERT … ON
    CONFLICT DO NOTHING RETURNING (the rows it skipped are not returned)."""
    table = tx._tables.processed_events
    now = utcnow()
    # in key order: two batches holding the same redelivered events wait, never deadlock
    unique = sorted({event.event_id: event for event in events}.values(),
                    key=lambda event: event.event_id)
    recorded = insert_new(tx.session, table, [
        {"consumer": event.consumer, "event_id": event.event_id, "processed_at": now}
        for event in unique], key=("consumer", "event_id"), returning="event_id")
    return {event.event_id: event.event_id in recorded for event in unique}


def request_fingerprint(entrypoint: str, args, kwargs) -> str:
    """What makes two requests "the same": the entrypoint and every argument but the caller."""
    canonical = json.dumps([entrypoint, list(args), kwargs], sort_keys=True, default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def run_once(unit: UnitOfWork, scope: str, key: str, fingerprint: str, call):
    """Run `call()` (an entrypoint's body) once per (scope, key): in one transaction with the
    reply it returns, which later calls with the same key get back unchanged."""
    table = unit.tables.idempotent_replies
    mine = (table.c.scope == scope) & (table.c.idempotency_key == key)
    for _attempt in range(2):
        try:
            with unit.transaction() as tx:
                earlier = tx.session.execute(
                    select(table.c.fingerprint, table.c.reply).where(mine)).first()
                if earlier is not None:
                    if earlier.fingerprint != fingerprint:
                        raise key_reused()
                    return earlier.reply
                # Claim the key before doing anything: a second attempt with the same key that
                # arrives while this one runs (a client retrying after a timeout) waits on this
                # row's primary key until we commit, then finds our reply.
                tx.session.execute(insert(table).values(
                    scope=scope, idempotency_key=key, fingerprint=fingerprint, reply=None,
                    created_at=utcnow()))
                with unit.joined(tx):
                    reply = call()
                tx.session.execute(update(table).where(mine).values(reply=reply))
            return reply
        except IntegrityError:
            # The other attempt committed first: the second pass finds its reply (or a 409 if
            # the bodies differ).
            if not _reply_exists(unit, scope, key):
                raise
    raise key_reused()


def key_reused() -> Conflict:
    return Conflict("this Idempotency-Key was used for a different request",
                    {"Idempotency-Key": ["already used with another body or route; "
                                         "use a new key for a new request"]})


def _reply_exists(unit: UnitOfWork, scope: str, key: str) -> bool:
    table = unit.tables.idempotent_replies
    with unit.read() as session:
        return session.execute(select(table.c.scope).where(
            table.c.scope == scope, table.c.idempotency_key == key)).first() is not None


def purge_replies(engine, tables, older_than: timedelta = timedelta(days=7)) -> int:
    """Keys are kept a week: longer than any client's retries."""
    table = tables.idempotent_replies
    with engine.begin() as conn:
        return conn.execute(delete(table).where(table.c.created_at < utcnow() - older_than)).rowcount
