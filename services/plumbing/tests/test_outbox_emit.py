"""Transaction.emit / emit_all on both databases: one event (one set of parameters), a few (one
executemany) and a bulk import's batch (insert_rows) write the same outbox rows."""

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import sessionmaker

from services.plumbing.db import BULK_EMIT, Transaction
from services.plumbing.envelope import new_envelope
from services.plumbing.tables import plumbing_tables
from services.plumbing.tests.scratch import scratch_engine

metadata = MetaData()
TABLES = plumbing_tables(metadata)


@pytest.fixture
def sessions(backend, tmp_path, request):
    with scratch_engine(backend, tmp_path, request, metadata, "outbox") as engine:
        yield sessionmaker(engine, expire_on_commit=False)

def envelope(n: int) -> dict:
    return new_envelope("test", "thing_happened", 1, {"n": n, "name": "党员", "note": None})


@pytest.mark.parametrize("sizes", [[1], [1, 1, 1], [3], [1, 2, 1], [BULK_EMIT], [1, BULK_EMIT + 1]])
def test_every_batch_size_writes_the_same_rows_in_order(sessions, sizes):
    sent = []
    with sessions() as session:
        tx = Transaction(session, TABLES, trace_id="trace-1")
        for size in sizes:
            batch = [envelope(len(sent) + i) for i in range(size)]
            if size == 1:
                tx.emit(batch[0])
            else:
                tx.emit_all(batch)
            sent += batch
        tx.emit_all([])  # nothing: no statement
        session.commit()
    assert tx.emitted == sent
    with sessions() as session:
        rows = session.execute(select(TABLES.outbox).order_by(TABLES.outbox.c.seq)).all()
    assert [row.envelope for row in rows] == sent
    assert {(row.event_type, row.version, row.producer, row.request_id, row.attempts, row.published_at)
            for row in rows} == {("thing_happened", 1, "test", "trace-1", 0, None)}
    assert [row.event_id for row in rows] == [e["event_id"] for e in sent]
    assert all(row.occurred_at is not None for row in rows)


def test_a_rolled_back_transaction_leaves_no_event(sessions):
    with sessions() as session:
        Transaction(session, TABLES, trace_id=None).emit(envelope(1))
        session.rollback()
    with sessions() as session:
        assert session.execute(select(TABLES.outbox)).all() == []
