"""The audit trail: every write and every denied request, in the gateway's own database.

Rows are only ever inserted (`record`); no route updates or deletes them. Admins read them per
org and period (`query`, keyset-paginated by the row's sequence number, so a page is stable
while new rows arrive) and export them as CSV (`export_csv`).
"""
import csv
import io
import logging
import os
from collections import deque

import eventlet
import eventlet.event
from limits import parse, storage, strategies
from sqlalchemy import exc, select

from services.plumbing.bulk_insert import insert_rows, insert_rows_through
from services.plumbing.db import as_stored
from services.plumbing.envelope import utcnow
from services.plumbing.errors import ValidationFailed
from services.plumbing.pagination import as_utc

from .models import AuditRecord

log = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD", "OPTIONS")
DENIED_STATUSES = (401, 403, 429)
EXPORT_MAX_ROWS = 100_000
COLUMNS = ("id", "occurred_at", "request_id", "actor_kind", "actor_id", "role", "org_id",
           "method", "route", "object_id", "status", "outcome", "error_code")


# Answers that probe rather than act: a 404 on an object id (another tenant's, or none) and a
# method a route does not take. Recorded like denials, and bounded like them.
PROBE_STATUSES = (404, 405)


def should_record(method: str, status: int, on_object: bool = False) -> bool:
    """Every write; every denial, 405 and 404 on an id route, reads included."""
    return (method not in READ_METHODS or status in DENIED_STATUSES or status == 405
            or (on_object and status == 404))


def is_denial(status: int) -> bool:
    return status in DENIED_STATUSES or status in PROBE_STATUSES


class DenialBound:
    """At most `GATEWAY_AUDIT_DENIALS_LIMIT` (default `100/minute`) denial rows per key or
    client address (a moving window, in this process's memory like the rate limits)."""

    def __init__(self, limit: str | None = None):
        self.limit = parse(limit or os.environ.get("GATEWAY_AUDIT_DENIALS_LIMIT", "100/minute"))
        self.limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def allows(self, who: str) -> bool:
        return self.limiter.hit(self.limit, "audit-denials:" + who)


def outcome_of(status: int) -> str:
    if status in DENIED_STATUSES:
        return "denied"
    return "succeeded" if status < 400 else "failed"


AUDIT_TABLE = AuditRecord.__table__
# Every row names every column but the sequence number (insert_rows takes rows of the same
# keys); a value not given is NULL, as in any INSERT: no column has a default.
WRITTEN_COLUMNS = tuple(column.key for column in AUDIT_TABLE.columns if column.key != "id")


class GroupCommitWriter:
    """Writes audit rows for one database, many requests to a commit.

    A request's reply waits until its row is committed (an acknowledged write always has its
    audit row), but requests do not pay a transaction each: the rows that queued up while the
    previous batch was being written go in together, as one multi-row INSERT. Under no load a
    row is written at once, alone: nothing waits for a batch to fill. The writer is a
    greenthread that lives while there is something to write.

    On PostgreSQL the writer keeps one connection while it lives, in autocommit: a batch is its
    INSERT alone, one round trip, where a session's BEGIN, INSERT and COMMIT were three and the
    session and pool machinery cost more CPU than the INSERT (issue 13). The INSERT of many rows
    is one statement, so all of them or none are written."""

    MAX_BATCH = 200

    def __init__(self, sessions):
        self.sessions = sessions
        self.waiting = deque()   # (values, event) in arrival order
        self.writer = None
        self._connection = None  # PostgreSQL: the writer's, while it lives

    def write(self, values: dict) -> None:
        done = eventlet.event.Event()
        self.waiting.append((values, done))
        if self.writer is None:
            self.writer = eventlet.spawn(self._write_while_waiting)
        done.wait()

    def _write_while_waiting(self) -> None:
        try:
            while self.waiting:
                batch = [self.waiting.popleft()
                         for _ in range(min(self.MAX_BATCH, len(self.waiting)))]
                rows = [{key: values.get(key) for key in WRITTEN_COLUMNS} for values, _ in batch]
                try:
                    self._write(rows)
                except Exception:
                    log.exception("could not write %d audit records: %s", len(batch),
                                  [values for values, _ in batch])
                    self._drop_connection()   # the next batch starts on a fresh one
                for _, done in batch:
                    done.send()
        finally:
            self.writer = None
            if self._connection is not None:
                self._connection.close()   # back to the pool (which ends its autocommit)
                self._connection = None

    def _write(self, rows: list[dict]) -> None:
        engine = getattr(self.sessions, "kw", {}).get("bind")
        if engine is None or engine.dialect.name != "postgresql":
            with self.sessions() as session:
                # Through the driver: an ORM bulk insert cost twice the CPU for one row and
                # five times for a batch of 200 (issue 13).
                insert_rows(session, AUDIT_TABLE, rows)
                session.commit()
            return
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = engine.raw_connection()
                self._connection.driver_connection.autocommit = True
            try:
                insert_rows_through(self._connection.driver_connection, engine.dialect,
                                    AUDIT_TABLE, rows)
                return
            except (exc.OperationalError, exc.InterfaceError):
                # The connection failed (a PostgreSQL restart): once more on a new one. Should
                # the first INSERT have been committed just before, its rows are there twice:
                # better than none.
                self._drop_connection()
                if attempt == 2:
                    raise

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection = None


def record(sessions, **values) -> None:
    """Insert one row, committed before this returns (in the transaction of whatever rows other
    requests recorded at the same moment). A failure is logged, never turned into an error for
    the caller: the write it describes has already happened."""
    values.setdefault("occurred_at", utcnow())
    values["outcome"] = outcome_of(values["status"])
    writer = getattr(sessions, "audit_writer", None)
    if writer is None:
        writer = sessions.audit_writer = GroupCommitWriter(sessions)
    writer.write(values)


def _filtered(params: dict):
    query = select(AuditRecord)
    if params.get("org_id"):
        query = query.where(AuditRecord.org_id == params["org_id"])
    if params.get("since"):
        query = query.where(AuditRecord.occurred_at >= params["since"])
    if params.get("until"):
        query = query.where(AuditRecord.occurred_at < params["until"])
    for column in ("outcome", "actor_id", "route"):
        if params.get(column):
            query = query.where(getattr(AuditRecord, column) == params[column])
    return query


def _naive_for_sqlite(session, params: dict) -> dict:
    return {name: as_stored(session, value) if name in ("since", "until") else value
            for name, value in params.items()}


def view(row: AuditRecord) -> dict:
    data = {column: getattr(row, column) for column in COLUMNS}
    data["occurred_at"] = as_utc(row.occurred_at).isoformat()
    return data


def query(session, params: dict) -> dict:
    params = _naive_for_sqlite(session, params)
    statement = _filtered(params)
    if params.get("cursor"):
        try:
            after = int(params["cursor"])
        except ValueError:
            raise ValidationFailed("invalid input",
                                   {"cursor": ["not a cursor this API returned"]}) from None
        statement = statement.where(AuditRecord.id > after)
    limit = params["limit"]
    rows = list(session.scalars(statement.order_by(AuditRecord.id).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return {"items": [view(row) for row in rows[:limit]], "next_cursor": next_cursor}


def export_csv(session, params: dict) -> str:
    params = _naive_for_sqlite(session, params)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    statement = _filtered(params).order_by(AuditRecord.id).limit(EXPORT_MAX_ROWS)
    for row in session.scalars(statement):
        data = view(row)
        writer.writerow(["" if data[c] is None else data[c] for c in COLUMNS])
    return out.getvalue()
