"""The outbox relay: publishes committed outbox rows to RabbitMQ and marks them published.

Publishing uses publisher confirms and `mandatory=True`: a row is marked published only after
the broker has confirmed it *and* routed it to at least one queue. While the broker is away the
relay backs off and retries; the write path never waits for it. Several replicas may relay
from one PostgreSQL database: rows are claimed with FOR UPDATE SKIP LOCKED.
"""
import logging
import time
from datetime import timedelta

from kombu import Connection, Producer
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine

from .envelope import utcnow
from .idempotency import purge_replies
from .pagination import as_utc
from .tables import PlumbingTables
from .topology import events_exchange

log = logging.getLogger(__name__)


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for it (the topology step not run)."""


class EventPublisher:
    """A confirming, mandatory publisher on its own connection (plain kombu, no nameko)."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self._connection = None
        self._producer = None
        self._returned = []

    def _ensure(self):
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True},
                                          connect_timeout=5)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            channel.events["basic_return"].add(self._on_return)
            self._producer = Producer(channel)
        return self._producer

    def _on_return(self, exc, exchange, routing_key, message):
        self._returned.append((exchange, routing_key))

    def publish(self, envelope: dict, request_id: str | None = None) -> None:
        producer = self._ensure()
        self._returned.clear()
        headers = {"nameko.request_id": request_id} if request_id else {}
        producer.publish(
            envelope, exchange=events_exchange(envelope["producer"]),
            routing_key=envelope["event_type"], serializer="json", delivery_mode=2,
            mandatory=True, message_id=envelope["event_id"], headers=headers, retry=False)
        if self._returned:
            raise Unroutable(f"no queue bound for {envelope['producer']}.events/{envelope['event_type']}")

    def publish_raw(self, body, routing_key: str, headers: dict, content_type: str,
                    content_encoding: str, expiration: float | None = None,
                    exchange="") -> None:
        """Publish as it came (retry and replay): through the default exchange straight to a
        queue, or through `exchange` keeping `routing_key` for where it goes next."""
        producer = self._ensure()
        self._returned.clear()
        producer.publish(body, exchange=exchange, routing_key=routing_key, headers=headers,
                         content_type=content_type, content_encoding=content_encoding,
                         delivery_mode=2, mandatory=True, expiration=expiration, retry=False)
        if self._returned:
            raise Unroutable(f"no queue for {exchange or 'the default exchange'}/{routing_key}")

    def close(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                pass
        self._connection = self._producer = None


class OutboxRelay:
    """`subscribed` is the set of (producer, event_type) that some consumer takes. An event of a
    type nobody consumes is returned by the broker as unroutable and is done with (pub/sub); an
    unroutable event of a consumed type means the topology step has not run: it stays in the
    outbox and is retried, and everything behind it waits, in order."""

    def __init__(self, engine: Engine, tables: PlumbingTables, publisher: EventPublisher,
                 subscribed: set[tuple[str, str]], batch_size: int = 100):
        self.engine = engine
        self.tables = tables
        self.outbox = tables.outbox
        self.publisher = publisher
        self.subscribed = subscribed
        self.batch_size = batch_size

    def _publish(self, row) -> str | None:
        """Publish one row; returns a note to keep on the row, or raises to retry later."""
        try:
            self.publisher.publish(row.envelope, row.request_id)
        except Unroutable:
            if (row.envelope["producer"], row.envelope["event_type"]) in self.subscribed:
                raise
            return "no subscriber"
        return None

    def relay_batch(self) -> int:
        """Publish up to one batch; returns how many were published. Raises if the broker fails
        (the rows stay unpublished and are tried again)."""
        outbox = self.outbox
        query = (select(outbox.c.seq, outbox.c.envelope, outbox.c.request_id)
                 .where(outbox.c.published_at.is_(None))
                 .order_by(outbox.c.seq).limit(self.batch_size))
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        notes: dict[str | None, list[int]] = {}   # note kept on the row → seqs published
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
            try:
                for row in rows:
                    notes.setdefault(self._publish(row), []).append(row.seq)
            except Exception as exc:
                # Keep what was confirmed; count the failed try on the row that failed.
                self._mark_published(conn, notes)
                failed = rows[sum(len(seqs) for seqs in notes.values())]
                conn.execute(update(outbox).where(outbox.c.seq == failed.seq)
                             .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:500]))
                raise
            self._mark_published(conn, notes)
        published = sum(len(seqs) for seqs in notes.values())
        return published

    def _mark_published(self, conn, notes: dict[str | None, list[int]]) -> None:
        """One UPDATE per kind of note (in practice one or two), not one per row."""
        now = utcnow()
        for note, seqs in notes.items():
            conn.execute(update(self.outbox).where(self.outbox.c.seq.in_(seqs))
                         .values(published_at=now, attempts=self.outbox.c.attempts + 1,
                                 last_error=note))

    def backlog(self) -> tuple[int, float]:
        """(unpublished rows, age in seconds of the oldest one)."""
        outbox = self.outbox
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(outbox.c.occurred_at))
                .where(outbox.c.published_at.is_(None))).one()
        if not oldest:
            return count, 0.0
        return count, max(0.0, (utcnow() - as_utc(oldest)).total_seconds())

    def purge_published(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Drops published events and stored idempotent replies older than a week."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(self.outbox).where(
                self.outbox.c.published_at.is_not(None),
                self.outbox.c.published_at < utcnow() - older_than))
        purge_replies(self.engine, self.tables, older_than)
        return result.rowcount


class Backoff:
    """Exponential backoff: 0.5 s doubling to 30 s; reset on success."""

    def __init__(self, first: float = 0.5, most: float = 30.0):
        self.first, self.most = first, most
        self.current = 0.0

    def failed(self) -> float:
        self.current = self.first if not self.current else min(self.current * 2, self.most)
        return self.current

    def succeeded(self):
        self.current = 0.0


def run_relay_loop(relay: OutboxRelay, wake, poll_seconds: float, should_stop) -> None:
    """Relay until `should_stop()`; `wake` is an event set when a worker has committed events."""
    backoff = Backoff()
    last_purge = time.monotonic()
    while not should_stop():
        try:
            while relay.relay_batch() == relay.batch_size:
                pass
            backoff.succeeded()
            delay = poll_seconds
            if time.monotonic() - last_purge > 3600:
                relay.purge_published()
                last_purge = time.monotonic()
        except Exception as exc:
            relay.publisher.close()
            delay = backoff.failed()
            log.warning("outbox relay failed, retrying in %.1fs: %s", delay, exc)
        wake.wait(delay)
        wake.clear()
