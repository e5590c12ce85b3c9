"""Database engines and the unit of work that keeps a change and its events in one transaction."""
import logging
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

from eventlet.patcher import original
from sqlalchemy import Column, Insert, Table, UniqueConstraint, create_engine, event, exc, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .bulk_insert import insert_rows
from .envelope import utcnow
from .tables import PlumbingTables
from .together import write_each

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine for a service database: PostgreSQL (psycopg2, which eventlet greens) or SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the relay read while a worker writes; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; take it over so that SELECT ... then
        # UPDATE in one transaction is really one transaction (SQLAlchemy's documented recipe).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        # SQLite waits for its lock inside C code, which blocks every greenlet of the process:
        # the greenlet holding the lock could never finish. So transactions in one process take
        # a green lock first and SQLite's own wait only ever applies between processes.
        lock = threading.RLock()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            lock.acquire()
            conn.info["liudong_lock"] = conn.info.get("liudong_lock", 0) + 1
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn)
                raise

        def _release(conn, *_args):
            if conn.info.get("liudong_lock"):
                conn.info["liudong_lock"] -= 1
                lock.release()

        # Released just before the COMMIT/ROLLBACK runs; nothing can yield in between.
        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)

        return engine
    # No pool_pre_ping: its SELECT 1 was a round trip on every checkout (issue 13). A pooled
    # connection the server has closed (PostgreSQL restarted, an idle timeout) is noticed
    # without one instead: see _discard_if_closed_by_server. pool_recycle replaces connections
    # before a firewall or proxy forgets them silently, which no local check can notice.
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=RECYCLE_SECONDS)
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    event.listen(engine, "checkin", _end_autocommit)
    event.listen(engine, "before_cursor_execute", _transaction_for_a_server_side_cursor)
    return engine


# A read() session on PostgreSQL runs in autocommit: its statements alone, without a BEGIN
# before and a ROLLBACK after (two round trips of three for a read by key, issue 13). Nothing
# is lost: under READ COMMITTED (PostgreSQL's default and ours) every statement of a
# transaction takes its own snapshot too. The driver's flag is set where the session begins on
# its connection (psycopg2 sends BEGIN only with the first statement, so none has gone yet)
# and cleared when the connection goes back to the pool. SQLAlchemy's own AUTOCOMMIT isolation
# level would do the same with a SET statement at every check-in. SQLite reads keep their
# transaction (its BEGIN IMMEDIATE orders them with the writers of the process).
READ_ONLY = "liudong_read_only"


@event.listens_for(Session, "after_begin")
def _reads_in_autocommit(session, _transaction, connection) -> None:
    if session.info.get(READ_ONLY) and connection.dialect.name == "postgresql":
        connection.connection.driver_connection.autocommit = True


def _transaction_for_a_server_side_cursor(connection, _cursor, _statement, _parameters,
                                           context, _executemany) -> None:
    """A streamed read (yield_per: a server-side cursor) needs a transaction to live in."""
    if context is not None and context._is_server_side:
        driver_connection = connection.connection.driver_connection
        if driver_connection.autocommit:
            driver_connection.autocommit = False


def _end_autocommit(dbapi_connection, _record) -> None:
    if dbapi_connection is not None and not dbapi_connection.closed and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


RECYCLE_SECONDS = 1800
# The real select(): a zero-timeout poll must not go through eventlet's hub (a greenlet
# switch per checkout would cost more than it saves).
_select = original("select").select


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """At checkout, an idle connection has nothing to read. If its socket is readable, the
    server has spoken first: a FATAL "terminating connection" and the end of the stream after a
    restart or a terminated backend. Raising DisconnectionError makes the pool discard it and
    check out another (up to three times, then a fresh connection), so the first statement
    after a PostgreSQL restart does not fail on a dead connection."""
    if dbapi_connection.closed:
        raise exc.DisconnectionError("connection closed")
    try:
        readable, _, _ = _select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as error:  # the descriptor is gone
        raise exc.DisconnectionError(str(error)) from error
    if readable:
        raise exc.DisconnectionError("the server closed the connection while it was idle")


def is_postgresql(engine_or_session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def insert_unless_present(session: Session, table: Table, *key_columns: str) -> Insert:
    """INSERT … ON CONFLICT (key_columns) DO NOTHING (PostgreSQL and SQLite both have it): a row
    whose key is taken is skipped, and the result's rowcount says whether it went in. A
    concurrent insert of the same key waits for the other transaction (PostgreSQL on the index,
    SQLite on the write lock) and is skipped if that one commits. Execute it with the row as
    parameters. Built once per table: a consumer runs one or two per event, and building a
    statement and its cache key costs SQLAlchemy more than executing one it has seen."""
    return _insert_unless_present(session.get_bind().dialect.name, table, key_columns)


@cache
def _insert_unless_present(dialect_name: str, table: Table, key_columns: tuple[str, ...]) -> Insert:
    insert_into = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return insert_into(table).on_conflict_do_nothing(index_elements=[table.c[name] for name in key_columns])


UNIQUE_VIOLATION = "23505"   # PostgreSQL's SQLSTATE


def takes_a_unique_value(error: exc.IntegrityError, column: Column) -> bool:
    """Whether `error` is a value of `column` already taken in its unique key (PostgreSQL or
    SQLite), not some other constraint of the statement or of the statements sent with it.
    PostgreSQL is asked by the constraint's name, never by its message (which follows the
    server's lc_messages: Chinese on a Chinese server)."""
    original = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:   # psycopg2
        return (original.pgcode == UNIQUE_VIOLATION and diag.table_name == column.table.name
                and diag.constraint_name in _unique_key_names(column))
    return str(original) == f"UNIQUE constraint failed: {column.table.name}.{column.name}"


def _unique_key_names(column: Column) -> set[str]:
    """The names a unique key of this column alone may have: PostgreSQL's own for an unnamed
    constraint, or the name the model gives its constraint or unique index."""
    unique_keys = [*(constraint for constraint in column.table.constraints
                     if isinstance(constraint, UniqueConstraint)),
                   *(index for index in column.table.indexes if index.unique)]
    return {f"{column.table.name}_{column.name}_key"} | {
        key.name for key in unique_keys if key.name and list(key.columns) == [column]}


def as_stored(session: Session, moment: datetime | None) -> datetime | None:
    """An instant as a timestamp column compares with it: PostgreSQL takes it with its zone,
    SQLite stores naive UTC (a zone-aware value would compare as text against it)."""
    if moment is None or is_postgresql(session):
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# From this many events on, emit_all hands the rows to the driver (bulk_insert): a bulk import's
# thousand events a batch would spend more in SQLAlchemy's parameter handling than in the rest.
BULK_EMIT = 50


class Transaction:
    """One database transaction of a worker: the session for domain changes and `emit` to add
    events to the outbox in the same transaction. Plain Python so domain modules can take it."""

    def __init__(self, session: Session, tables: PlumbingTables, trace_id: str | None):
        self.session = session
        self._tables = tables
        self.trace_id = trace_id
        self.emitted: list[dict] = []
        # A batched subscriber's transaction: the events it applies, and which of them are
        # first deliveries, found for all in one statement (idempotency.record_first_delivery).
        self.event_batch: list | None = None
        self.first_deliveries: dict[str, bool] | None = None

    def emit(self, envelope: dict) -> None:
        self.emit_all([envelope])

    def emit_all(self, envelopes: list[dict]) -> None:
        """Several events in one statement (a bulk import emits one per member: one round trip
        each would cost more than the import itself)."""
        if not envelopes:
            return
        rows = self._outbox_rows(envelopes)
        if len(rows) >= BULK_EMIT:
            insert_rows(self.session, self._tables.outbox, rows)
        else:
            # One event (the usual case) as one set of parameters: SQLAlchemy's executemany
            # path costs a sixth more CPU for one row; insert_rows' would cost the server more.
            self.session.execute(insert(self._tables.outbox), rows[0] if len(rows) == 1 else rows)
        self.emitted.extend(envelopes)

    def write_and_emit(self, writes: list, envelope: dict) -> None:
        """A few single-row writes (together.write_each: an INSERT as (table, row), an UPDATE
        as a RowUpdate) and then the event's outbox row, in one round trip on PostgreSQL."""
        outbox = self._tables.outbox
        write_each(self.session, writes + [(outbox, row) for row in self._outbox_rows([envelope])])
        self.emitted.append(envelope)

    def _outbox_rows(self, envelopes: list[dict]) -> list[dict]:
        now = utcnow()
        return [{
            "event_id": envelope["event_id"], "event_type": envelope["event_type"],
            "version": envelope["version"], "producer": envelope["producer"], "occurred_at": now,
            "envelope": envelope, "request_id": self.trace_id, "attempts": 0,  # the column's old name
        } for envelope in envelopes]


class UnitOfWork:
    """What a worker gets as `self.db`: a session factory bound to the service database.

    `idempotency_key` is the client's Idempotency-Key that came with the RPC (or None). While
    `idempotency.run_once` runs an entrypoint, every `transaction()` and `read()` of the worker
    joins its one outer transaction, so the change, its events and the stored reply commit
    together or not at all."""

    def __init__(self, session_factory: sessionmaker, tables: PlumbingTables,
                 trace_id: str | None, on_events_committed=None,
                 idempotency_key: str | None = None):
        self._session_factory = session_factory
        self._tables = tables
        self.trace_id = trace_id
        self._on_events_committed = on_events_committed
        self._sessions: list[Session] = []
        self.idempotency_key = idempotency_key
        self._joined: Transaction | None = None

    @property
    def tables(self) -> PlumbingTables:
        return self._tables

    @contextmanager
    def transaction(self):
        """Commit on success, roll back on any exception: nothing half-written remains."""
        if self._joined is not None:
            yield self._joined  # the outer transaction commits (or rolls back) everything
            return
        session = self._session_factory()
        self._sessions.append(session)
        tx = Transaction(session, self._tables, self.trace_id)
        try:
            yield tx
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if tx.emitted and self._on_events_committed:
            self._on_events_committed()

    def database_url(self) -> str:
        """The database's URL, password included (for a process of the service's own)."""
        return self._session_factory.kw["bind"].url.render_as_string(hide_password=False)

    @contextmanager
    def joined(self, tx: Transaction):
        """Make every transaction() and read() inside this block part of `tx`."""
        self._joined = tx
        try:
            yield tx
        finally:
            self._joined = None

    @contextmanager
    def read(self):
        """A read-only session (its transaction rolled back at the end)."""
        if self._joined is not None:
            yield self._joined.session  # sees what the outer transaction wrote so far
            return
        # No autoflush: on PostgreSQL a flush here would be a write committed at once.
        session = self._session_factory(autoflush=False)
        session.info[READ_ONLY] = True
        self._sessions.append(session)
        try:
            yield session
        finally:
            # close() ends the transaction (its connection goes back to the pool rolled back)
            # without first expiring every object read, which rollback() does: a third of the
            # cost of reading a list page of fifty (issue 13).
            session.close()

    def close(self):
        for session in self._sessions:
            session.close()
        self._sessions.clear()
