"""record_first_delivery and the tenancy projection on both databases: the primary key answers
in one INSERT (no SELECT first); a redelivery, also one arriving while the first delivery's
transaction is still open, has no second effect; a rolled-back first delivery leaves the event
to the next."""

import eventlet
import pytest
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.orm import sessionmaker

from services.plumbing.db import UnitOfWork
from services.plumbing.envelope import ReceivedEvent, new_envelope
from services.plumbing.idempotency import record_first_delivery
from services.plumbing.tables import plumbing_tables
from services.plumbing.tenancy import Tenancy, tenancy_tables

metadata = MetaData()
PLUMBING = plumbing_tables(metadata)
TENANCY = Tenancy(tenancy_tables(metadata))


def registered(member_id: str, consumer: str = "desk.on_member_registered") -> ReceivedEvent:
    return ReceivedEvent.from_envelope(new_envelope("members", "member_registered", 1, {
        "member_id": member_id, "name": "张三", "home_org_id": "county", "host_org_id": None}),
        consumer)


def project(uow, received: ReceivedEvent, pause: float = 0.0, fail: bool = False) -> bool:
    """What a consumer does with the event: True if it applied it."""
    with uow.transaction() as tx:
        first = record_first_delivery(tx, received)
        if first:
            TENANCY.apply_members_registered(tx.session, [received.data])
        eventlet.sleep(pause)
        if fail:
            raise RuntimeError("the handler failed after recording the event")
    return first


def rows(uow) -> tuple[int, int]:
    with uow.read() as session:
        return (session.scalar(select(func.count()).select_from(PLUMBING.processed_events)),
                session.scalar(select(func.count()).select_from(TENANCY.tables.members)))


def test_a_first_delivery_is_two_inserts_and_a_redelivery_changes_nothing(engine, uow):
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, *_args: statements.append(sql.split()[0].upper()))
    received = registered("m-1")
    assert project(uow, received)
    assert [s for s in statements if s != "BEGIN"] == ["INSERT", "INSERT"]  # SQLite: BEGIN IMMEDIATE
    assert not project(uow, received)
    assert project(uow, registered("m-1", "donations.on_member_registered"))  # another consumer
    assert rows(uow) == (2, 1)


def test_a_projected_member_is_kept_as_it_was(uow):
    with uow.transaction() as tx:
        TENANCY.apply_members_registered(tx.session, [{"member_id": "m-1", "name": "张三",
                                                       "home_org_id": "county", "host_org_id": None}])
        TENANCY.apply_members_registered(tx.session, [{"member_id": "m-1", "name": "other",
                                                       "home_org_id": "x", "host_org_id": "y"}])
    with uow.read() as session:
        assert session.execute(select(TENANCY.tables.members)).one() == ("m-1", "张三", "county", None, 0)


def test_a_redelivery_while_the_first_is_open_waits_and_does_nothing(engine):
    # The first holds its transaction open after recording the event; the second records it
    # meanwhile (PostgreSQL: it waits on the key; SQLite: on the write lock), then sees it done.
    def deliver(pause):
        return project(UnitOfWork(sessionmaker(engine, expire_on_commit=False), PLUMBING, None),
                       received, pause)

    received = registered("m-1")
    pool = eventlet.GreenPool(2)
    first = pool.spawn(deliver, 0.3)
    eventlet.sleep(0.05)
    second = pool.spawn(deliver, 0)
    assert (first.wait(), second.wait()) == (True, False)
    assert rows(UnitOfWork(sessionmaker(engine), PLUMBING, None)) == (1, 1)


def test_a_rolled_back_first_delivery_leaves_the_event_to_the_next(uow):
    received = registered("m-1")
    with pytest.raises(RuntimeError):
        project(uow, received, fail=True)
    assert rows(uow) == (0, 0)
    assert project(uow, received)
    assert rows(uow) == (1, 1)


def project_batch(uow, events: list[ReceivedEvent], fail_on: str | None = None) -> list[bool]:
    """What a batched subscriber's worker does with a batch: one transaction, every handler
    recording its event first (plumbing/batches.py)."""
    firsts = []
    with uow.transaction() as tx:
        tx.event_batch = events
        for received in events:
            first = record_first_delivery(tx, received)
            firsts.append(first)
            if first:
                TENANCY.apply_members_registered(tx.session, [received.data])
            if received.data["member_id"] == fail_on:
                raise RuntimeError("a handler of the batch failed")
    return firsts


def test_a_batch_records_its_events_in_one_statement(engine, uow):
    """Issue 13: one INSERT … RETURNING for the batch's records, not one per event; an event
    applied before, and a second copy of one event in the same batch, are not first."""
    earlier = registered("m-2")
    assert project(uow, earlier)
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, *_args: statements.append(sql))
    batch = [registered("m-1"), earlier, registered("m-3")]
    batch.append(batch[0])   # redelivered while the batch waited
    assert project_batch(uow, batch) == [True, False, True, False]
    records = [sql for sql in statements if "processed_events" in sql]
    assert len(records) == 2 and "RETURNING" in records[0]   # the batch's, then the copy's own
    assert records[0].count("), (") == 2   # the batch's three events in one INSERT
    assert rows(uow) == (3, 3)


def test_a_failed_batch_takes_its_records_back(uow):
    with pytest.raises(RuntimeError):
        project_batch(uow, [registered("m-1"), registered("m-2")], fail_on="m-1")
    assert rows(uow) == (0, 0)
    assert project_batch(uow, [registered("m-1"), registered("m-2")]) == [True, True]
    assert rows(uow) == (2, 2)


def test_a_batch_of_registrations_is_projected_in_one_statement(engine, uow):
    """Issue 13: one INSERT of many VALUES for a batch (an INSERT … ON CONFLICT without
    RETURNING would go row by row through the driver); a member projected before is kept."""
    with uow.transaction() as tx:
        TENANCY.apply_members_registered(tx.session, [{"member_id": "m-2", "name": "先到",
                                                       "home_org_id": "county", "host_org_id": None}])
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, *_args: statements.append(sql))
    with uow.transaction() as tx:
        TENANCY.apply_members_registered(tx.session, [
            {"member_id": f"m-{n}", "name": f"党员{n}", "home_org_id": "county",
             "host_org_id": None} for n in (1, 2, 3)])
    inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and inserts[0].count("ON CONFLICT") == 1
    assert inserts[0].upper().count("), (") == 2   # three rows of VALUES
    with uow.read() as session:
        names = dict(session.execute(select(TENANCY.tables.members.c.member_id,
                                            TENANCY.tables.members.c.name)).all())
    assert names == {"m-1": "党员1", "m-2": "先到", "m-3": "党员3"}
