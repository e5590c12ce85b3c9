"""UnitOfWork.read() on both databases. PostgreSQL runs a read's statements in autocommit (no
BEGIN before, no ROLLBACK after: issue 13); the connection goes back to the pool as it came
(transactions after it are transactions); a streamed read still gets the transaction its
server-side cursor needs; SQLite reads keep their transaction."""
import time

import pytest
from sqlalchemy import MetaData, func, insert, select, text

from services.plumbing.tables import plumbing_tables

metadata = MetaData()
PLUMBING = plumbing_tables(metadata)
PROCESSED = PLUMBING.processed_events


def in_a_transaction(session) -> bool:
    """Whether two statements of the session share a transaction (PostgreSQL's now() is the
    start of the transaction; a statement alone is a transaction of its own)."""
    first = session.scalar(text("SELECT now()"))
    time.sleep(0.01)
    return session.scalar(text("SELECT now()")) == first


def driver_connection(session):
    return session.connection().connection.driver_connection


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_read_on_postgresql_is_its_statements_alone(uow):
    with uow.read() as session:
        assert not in_a_transaction(session)
    with uow.transaction() as tx:   # the same pooled connection, back to transactions
        assert in_a_transaction(tx.session)
        assert driver_connection(tx.session).autocommit is False
    with uow.read() as session:     # and a read after that one is in autocommit again
        assert not in_a_transaction(session)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_read_that_fails_leaves_the_connection_as_it_found_it(uow):
    with pytest.raises(Exception, match="no_such_table"):
        with uow.read() as session:
            session.execute(text("SELECT * FROM no_such_table"))
    with uow.transaction() as tx:
        assert in_a_transaction(tx.session)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(PROCESSED)) == 0


def test_a_streamed_read_gets_its_transaction(uow):
    with uow.transaction() as tx:
        tx.session.execute(insert(PROCESSED), [
            {"consumer": "c", "event_id": f"e{n}", "processed_at": tx_time()} for n in range(7)])
    with uow.read() as session:
        streamed = [row.event_id for row in session.execute(
            select(PROCESSED.c.event_id).order_by(PROCESSED.c.event_id)
            .execution_options(yield_per=2))]
    assert streamed == [f"e{n}" for n in range(7)]
    with uow.transaction() as tx:   # and the connection it used is a plain one again
        assert tx.session.scalar(select(func.count()).select_from(PROCESSED)) == 7


def test_what_a_read_session_writes_is_not_kept_on_sqlite(uow, backend):
    """SQLite reads stay in their transaction (rolled back at the end)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL reads are autocommit")
    with uow.read() as session:
        session.execute(insert(PROCESSED), {"consumer": "c", "event_id": "e", "processed_at": tx_time()})
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(PROCESSED)) == 0


def tx_time():
    from services.plumbing.envelope import utcnow
    return utcnow()


def test_what_a_read_session_changes_is_never_written(uow):
    """Nothing a read changes reaches the database: no autoflush (on PostgreSQL, in autocommit,
    a flush would be a write committed at once), and the session ends without a commit."""
    with uow.transaction() as tx:
        tx.session.execute(insert(PROCESSED), {"consumer": "c", "event_id": "e", "processed_at": tx_time()})
    with uow.read() as session:
        assert session.autoflush is False
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(PROCESSED)) == 1
