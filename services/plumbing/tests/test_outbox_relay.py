"""OutboxRelay.relay_batch on both databases: rows go out oldest first with their trace ids and
are marked published; a broker failure keeps the confirmed ones and leaves the rest; an
unroutable event of a consumed type waits, with everything behind it, in order; an event nobody
consumes is done with a note. The publisher here records what it is given (its own work with a
real broker is tested in tests/integration/test_event_reliability.py)."""
import threading
from contextlib import contextmanager

import eventlet
import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import sessionmaker

from services.plumbing.db import UnitOfWork
from services.plumbing.envelope import new_envelope
from services.plumbing.outbox import OutboxRelay, Unconfirmed, Unroutable, run_relay_loop
from services.plumbing.tables import plumbing_tables

metadata = MetaData()
PLUMBING = plumbing_tables(metadata)
OUTBOX = PLUMBING.outbox
CONSUMED = ("test", "thing_happened")


class RecordingPublisher:
    """Takes every event (or: fails after `fail_after` of a call, returns `unroutable` ids)."""

    def __init__(self):
        self.calls: list[int] = []   # how many events each call published
        self.published: list[tuple[str, str | None]] = []
        self.fail_after: int | None = None
        self.unroutable: set[str] = set()

    def publish_many(self, events):
        if self.fail_after is not None:
            taken, self.fail_after = events[:self.fail_after], None
            self.published += [(envelope["event_id"], trace) for envelope, trace in taken]
            raise Unconfirmed(len(taken), ConnectionError("broker gone"),
                              routed=[e["event_id"] not in self.unroutable for e, _ in taken])
        self.calls.append(len(events))
        self.published += [(envelope["event_id"], trace) for envelope, trace in events]
        return [envelope["event_id"] not in self.unroutable for envelope, _ in events]

    def close(self):
        pass


@pytest.fixture
def relay(engine):
    return OutboxRelay(engine, PLUMBING, RecordingPublisher(), subscribed={CONSUMED})


def commit_events(engine, count: int, event_type="thing_happened", trace="trace-1") -> list[str]:
    envelopes = [new_envelope("test", event_type, 1, {"n": n}) for n in range(count)]
    with UnitOfWork(sessionmaker(engine), PLUMBING, trace).transaction() as tx:
        tx.emit_all(envelopes)
    return [envelope["event_id"] for envelope in envelopes]


def unpublished(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(OUTBOX.c.event_id).where(OUTBOX.c.published_at.is_(None))
                                 .order_by(OUTBOX.c.seq)))


def test_rows_go_out_oldest_first_with_their_trace_and_are_marked(engine, relay):
    first = commit_events(engine, 2, trace="trace-a")
    second = commit_events(engine, 1, trace="trace-b")
    assert relay.relay_batch() == 3 and relay.relay_batch() == 0
    assert relay.publisher.published == [(first[0], "trace-a"), (first[1], "trace-a"),
                                         (second[0], "trace-b")]
    assert unpublished(engine) == []
    with engine.connect() as conn:
        assert set(conn.execute(select(OUTBOX.c.attempts, OUTBOX.c.last_error))) == {(1, None)}


def test_a_broker_failure_keeps_the_confirmed_and_leaves_the_rest(engine, relay):
    ids = commit_events(engine, 3)
    relay.publisher.fail_after = 1
    with pytest.raises(Unconfirmed):
        relay.relay_batch()
    assert unpublished(engine) == ids[1:]
    assert relay.relay_batch() == 2
    assert [event_id for event_id, _ in relay.publisher.published] == ids   # none twice


def test_an_unroutable_consumed_event_waits_with_everything_behind_it(engine, relay):
    ids = commit_events(engine, 3)
    relay.publisher.unroutable = {ids[1]}
    with pytest.raises(Unroutable):
        relay.relay_batch()
    assert unpublished(engine) == ids[1:]   # the first went; the second and the third wait
    with engine.connect() as conn:
        attempts, error = conn.execute(select(OUTBOX.c.attempts, OUTBOX.c.last_error)
                                       .where(OUTBOX.c.event_id == ids[1])).one()
    assert attempts == 1 and "no queue bound" in error
    relay.publisher.unroutable = set()   # the topology step ran
    assert relay.relay_batch() == 2 and unpublished(engine) == []


def test_an_event_nobody_consumes_is_done_with_a_note(engine, relay):
    [event_id] = commit_events(engine, 1, event_type="nobody_listens")
    relay.publisher.unroutable = {event_id}
    assert relay.relay_batch() == 1
    with engine.connect() as conn:
        assert conn.execute(select(OUTBOX.c.published_at.is_not(None), OUTBOX.c.last_error)
                            ).one() == (True, "no subscriber")


@contextmanager
def relay_loop(relay, linger_seconds: float):
    """The relay's loop running (polling only every 30 s): yields the event a commit sets."""
    wake, stopping = threading.Event(), []
    loop = eventlet.spawn(run_relay_loop, relay, wake, 30.0, lambda: bool(stopping),
                          linger_seconds)
    try:
        yield wake
    finally:
        stopping.append(True)
        wake.set()
        loop.wait()


def test_woken_by_a_commit_the_relay_lingers_for_the_commits_after_it(engine, relay):
    """Three commits within the linger go out as one batch (one confirm, one UPDATE)."""
    with relay_loop(relay, 0.3) as wake:
        eventlet.sleep(0.1)   # its first pass: an empty outbox
        ids = []
        for _ in range(3):
            ids += commit_events(engine, 1)
            wake.set()
            eventlet.sleep(0.02)
        wait = 0.0
        while unpublished(engine) and wait < 5:
            eventlet.sleep(0.05)
            wait += 0.05
        assert unpublished(engine) == [] and relay.publisher.calls == [3]
        assert [event_id for event_id, _ in relay.publisher.published] == ids


def test_after_a_quiet_spell_a_commit_is_published_at_once(engine, relay):
    """At most one batch per linger: the linger is what is left of it since the last batch, so
    an event after a quiet spell longer than the linger does not wait for it."""
    with relay_loop(relay, 0.5) as wake:
        eventlet.sleep(0.7)   # its first pass, then quiet for longer than the linger
        commit_events(engine, 1)
        wake.set()
        eventlet.sleep(0.2)
        assert unpublished(engine) == [] and relay.publisher.calls == [1]
