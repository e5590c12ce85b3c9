"""Batched subscribers (issue 13): events that wait while a batch is handled are handled together
in one transaction, each still exactly once, each with its own trace id; one failing event
sends the batch back to one-by-one handling, where it alone is retried and parked."""
import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection
from nameko.runners import ServiceRunner
from sqlalchemy import Column, MetaData, String, Table, insert, select

from services.members import events as member_events
from services.plumbing import deadletters, logs, topology
from services.plumbing.batches import EventBatch
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.metrics import Metrics, metrics_of
from services.plumbing.outbox import EventPublisher
from services.plumbing.providers import Database, LogContext
from services.plumbing.subscriber import subscribe
from services.plumbing.tables import plumbing_tables
from services.plumbing.tests.scratch import scratch_engine
from tests.fixtures import container_config, wait_for

pytestmark = pytest.mark.integration

METADATA = MetaData()
TABLES = plumbing_tables(METADATA)
EFFECTS = Table("effects", METADATA,
                Column("event_id", String(36), primary_key=True),
                Column("member_id", String(36), nullable=False),
                Column("trace_id", String(64)))


class BatchProbe:
    name = "batch_probe"
    db = Database(METADATA, TABLES)
    metrics = Metrics()
    log_context = LogContext()
    poisoned: set = set()

    @subscribe("members", "member_registered", batched=True)
    def on_member_registered(self, event):
        if event.data["member_id"] in BatchProbe.poisoned:
            raise RuntimeError("this one cannot be applied")
        with self.db.transaction() as tx:
            if record_first_delivery(tx, event):
                tx.session.execute(insert(EFFECTS).values(
                    event_id=event.event_id, member_id=event.data["member_id"],
                    trace_id=tx.trace_id))


class TogetherProbe:
    """The same effect by a handler that takes a batch as one list (`together`)."""
    name = "together_probe"
    db = Database(METADATA, TABLES)
    metrics = Metrics()
    log_context = LogContext()
    lists: list = []   # the length of every list the handler got

    @subscribe("members", "member_registered", together=True)
    def on_member_registered(self, events):
        TogetherProbe.lists.append(len(events))
        if any(event.data["member_id"] in BatchProbe.poisoned for event in events):
            raise RuntimeError("one of these cannot be applied")
        with self.db.transaction() as tx:
            firsts = [event for event in events if record_first_delivery(tx, event)]
            if firsts:
                tx.session.execute(insert(EFFECTS), [
                    {"event_id": event.event_id, "member_id": event.data["member_id"],
                     "trace_id": tx.trace_id} for event in firsts])


def running(service_class, backend, tmp_path, request, amqp_uri, monkeypatch):
    """The service consuming on a database of its own; yields (engine, batch sizes seen,
    its subscription, runner)."""
    with Connection(amqp_uri) as conn:
        topology.declare(conn, [service_class])
    sub = topology.subscriptions_of(service_class)[0]
    with Connection(amqp_uri) as conn:  # nothing left over from another test
        conn.default_channel.queue_purge(sub.queue_name)
        conn.default_channel.queue_purge(sub.parked_queue_name)
    sizes = []
    real_run = EventBatch.run

    def recording_run(batch, *args, **kwargs):
        sizes.append(len(batch))
        return real_run(batch, *args, **kwargs)

    monkeypatch.setattr(EventBatch, "run", recording_run)
    BatchProbe.poisoned = set()
    with scratch_engine(backend, tmp_path, request, METADATA, "batches") as engine:
        runner = ServiceRunner(container_config(
            service_class.name, engine.url.render_as_string(hide_password=False), amqp_uri,
            EVENT_MAX_RETRIES=0))
        runner.add_service(service_class)
        runner.start()
        try:
            yield engine, sizes, sub, runner
        finally:
            runner.stop()


@pytest.fixture
def probe(backend, tmp_path, request, amqp_uri, monkeypatch):
    yield from running(BatchProbe, backend, tmp_path, request, amqp_uri, monkeypatch)


@pytest.fixture
def together_probe(backend, tmp_path, request, amqp_uri, monkeypatch):
    TogetherProbe.lists = []
    yield from running(TogetherProbe, backend, tmp_path, request, amqp_uri, monkeypatch)


def registrations(count: int) -> list[tuple[dict, str]]:
    return [(member_events.MEMBER_REGISTERED.envelope({
        "member_id": str(uuid.uuid4()), "name": "党员", "home_org_id": str(uuid.uuid4()),
        "host_org_id": None, "registered_at": datetime.now(UTC)}), f"trace-{n}")
        for n in range(count)]


def publish(amqp_uri, events) -> None:
    publisher = EventPublisher(amqp_uri)
    try:
        publisher.publish_many(events)
    finally:
        publisher.close()


def effects(engine) -> dict:
    with engine.connect() as conn:
        return {row.event_id: row for row in conn.execute(select(EFFECTS))}


class LogLines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.setFormatter(logs.JsonFormatter())

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_a_burst_is_handled_in_batches_each_event_once_with_its_own_trace(probe, amqp_uri):
    engine, sizes, _sub, runner = probe
    handler, logger = LogLines(), logging.getLogger("services.plumbing.providers")
    logger.addHandler(handler)
    # (another test may have configured logging with disable_existing_loggers)
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        events = registrations(60)
        publish(amqp_uri, events)
        wait_for(lambda: len(effects(engine)) == 60, timeout=30, message="all 60 applied")
        wait_for(lambda: len(handler.lines) >= 60, timeout=10, message="a line per event")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    assert sum(sizes) == 60 and max(sizes) > 1, sizes  # batches, and no event twice
    applied = effects(engine)
    expected = {envelope["event_id"]: trace for envelope, trace in events}
    assert expected == {event_id: row.trace_id for event_id, row in applied.items()}
    # one log line per event, with that event's trace id and event id
    done = {line["event_id"]: line["request_id"] for line in handler.lines
            if line["message"] == "entrypoint done"}
    assert done == expected
    # redelivered (the same event ids again): no second effect
    publish(amqp_uri, events[:20])
    wait_for(lambda: sum(sizes) == 80, timeout=30, message="the redeliveries handled")
    assert len(effects(engine)) == 60
    with engine.connect() as conn:
        assert len(conn.execute(select(TABLES.processed_events)).all()) == 60
    # the metrics count events, not batches
    metrics = metrics_of(next(iter(runner.containers)))
    assert metrics.registry.get_sample_value("liudong_entrypoint_calls_total", {
        "service": "batch_probe", "entrypoint": "on_member_registered", "kind": "event",
        "outcome": "success"}) == 80


def test_one_failing_event_is_parked_alone_and_its_batch_is_applied(probe, amqp_uri):
    engine, sizes, sub, _runner = probe
    events = registrations(30)
    poisoned = events[17][0]
    BatchProbe.poisoned = {poisoned["data"]["member_id"]}
    publish(amqp_uri, events)
    wait_for(lambda: len(effects(engine)) == 29, timeout=30, message="the other 29 applied")
    parked = wait_for(lambda: deadletters.list_parked(amqp_uri, [sub]), timeout=30,
                      message="the failing event parked")
    assert [p["event_id"] for p in parked] == [poisoned["event_id"]]
    assert poisoned["event_id"] not in effects(engine)
    assert max(sizes) > 1, sizes


def test_a_together_handler_gets_its_batches_as_lists(together_probe, amqp_uri):
    """`together`: a batch reaches the handler as one list; every event is applied once, with
    no event twice; a failing one is retried alone in a list of one and parked, the others of
    its batch applied."""
    engine, sizes, sub, _runner = together_probe
    events = registrations(60)
    publish(amqp_uri, events)
    wait_for(lambda: len(effects(engine)) == 60, timeout=30, message="all 60 applied")
    assert sum(sizes) == 60 and max(TogetherProbe.lists) > 1, TogetherProbe.lists
    assert set(effects(engine)) == {envelope["event_id"] for envelope, _ in events}
    publish(amqp_uri, events[:10])   # redelivered: no second effect
    wait_for(lambda: sum(sizes) == 70, timeout=30, message="the redeliveries handled")
    assert len(effects(engine)) == 60

    more = registrations(30)
    BatchProbe.poisoned = {more[17][0]["data"]["member_id"]}
    TogetherProbe.lists = []
    publish(amqp_uri, more)
    wait_for(lambda: len(effects(engine)) == 89, timeout=30, message="the other 29 applied")
    parked = wait_for(lambda: deadletters.list_parked(amqp_uri, [sub]), timeout=30,
                      message="the failing event parked")
    assert [p["event_id"] for p in parked] == [more[17][0]["event_id"]]
