"""The two things that keep the gateway off its database on the hot path: keys served from a
short-lived cache (revocations at once here, within the bound elsewhere) and audit rows written
many to a commit (each still committed before its request is answered)."""
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import create_engine, event, func, select, text, update

from gateway import audit, keys
from gateway.models import ApiKey, AuditRecord
from services.plumbing.envelope import utcnow
from services.plumbing.migrate import upgrade


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    return keys.session_factory(url)


@pytest.fixture
def statements(sessions):
    """The SQL statements the gateway's engine runs (texts), from now on."""
    seen = []
    engine = sessions.kw["bind"]
    listener = lambda *args: seen.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(keys.time, "monotonic", lambda: now[0])
    return now


def new_key(sessions, role="office", org="org-1"):
    with sessions() as session:
        key, plain = keys.create_key(session, role, "county", org)
        session.commit()
        return key.id, plain


def test_a_known_key_is_served_without_the_database(sessions, statements, clock):
    _key_id, plain = new_key(sessions)
    with sessions() as session:
        first = keys.resolve(session, plain)
    statements.clear()
    clock[0] += 1.5
    with sessions() as session:
        assert keys.resolve(session, plain) == first
        assert keys.resolve(session, plain[:-1] + "x") is None   # wrong secret, same id
    assert statements == []


def test_revoked_here_is_refused_at_once_and_elsewhere_within_the_bound(sessions, clock):
    key_id, plain = new_key(sessions)
    other_id, other_plain = new_key(sessions)
    with sessions() as session:
        assert keys.authenticate(session, plain) and keys.authenticate(session, other_plain)
        assert keys.revoke_key(session, key_id)
        session.commit()
        assert keys.authenticate(session, plain) is None          # this replica: at once
    with sessions() as session:  # another replica (or the CLI) revokes the other key
        session.execute(update(ApiKey).where(ApiKey.id == other_id).values(revoked_at=utcnow()))
        session.commit()
    with sessions() as session:
        assert keys.authenticate(session, other_plain) is not None   # still cached
        clock[0] += keys.KEYS.seconds
        assert keys.authenticate(session, other_plain) is None        # read again: refused


def test_a_rotated_key_expires_from_the_cache_too(sessions, clock):
    key_id, plain = new_key(sessions)
    with sessions() as session:
        assert keys.authenticate(session, plain)
        keys.rotate_key(session, key_id, timedelta(0))
        session.commit()
        assert keys.authenticate(session, plain) is None


def test_a_revocation_that_is_rolled_back_leaves_the_key_working(sessions, clock):
    key_id, plain = new_key(sessions)
    with sessions() as session:
        assert keys.revoke_key(session, key_id)
        session.rollback()
    with sessions() as session:
        assert keys.authenticate(session, plain) is not None


def test_last_used_is_written_when_the_key_is_read_again_not_per_request(sessions, statements,
                                                                        clock):
    key_id, plain = new_key(sessions)
    with sessions() as session:
        for _ in range(20):
            keys.resolve(session, plain)
    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1
    with sessions() as session:
        assert session.get(ApiKey, key_id).last_used_at is not None


def test_audit_rows_of_concurrent_requests_share_commits_and_all_land(sessions):
    commits = []
    event.listen(sessions.kw["bind"], "commit", lambda conn: commits.append(1))

    def request(n):
        audit.record(sessions, request_id=f"r{n}", actor_kind="key", actor_id="k", role="office",
                     org_id="a", method="POST", route="/api/v1/x", object_id=None, status=201,
                     error_code=None)
        with sessions() as session:   # committed before record returned
            return session.scalar(select(func.count()).where(AuditRecord.request_id == f"r{n}"))

    pool = eventlet.GreenPool(50)
    assert list(pool.imap(request, range(50))) == [1] * 50
    assert len(commits) < 10
    with sessions() as session:
        ids = [row.request_id for row in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert sorted(ids) == sorted(f"r{n}" for n in range(50))


def test_an_audit_failure_is_logged_and_does_not_hold_the_request(sessions, caplog):
    def broken():
        raise RuntimeError("database away")

    audit.record(broken, request_id="r", actor_kind="key", actor_id="k", role="office",
                 org_id="a", method="POST", route="/x", object_id=None, status=201,
                 error_code=None)
    assert "could not write 1 audit records" in caplog.text
    audit.record(sessions, request_id="after", actor_kind="key", actor_id="k", role="office",
                 org_id="a", method="POST", route="/x", object_id=None, status=201,
                 error_code=None)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 1


def test_a_batch_of_audit_rows_lands_as_given_on_both_databases(databases):
    # Written through the driver (insert_rows): every value as the ORM stored it, a value not
    # given is NULL, and rows of one batch may leave out different ones.
    sessions = keys.session_factory(databases.url("gateway"))
    writer = audit.GroupCommitWriter(sessions)
    moment = utcnow().replace(microsecond=123456)
    given = [dict(request_id=f"r{n}", actor_kind="key", actor_id="k", role="office", org_id="a",
                  method="POST", route="/api/v1/members", object_id=f"o{n}", status=201 + n,
                  outcome="succeeded", error_code=None, occurred_at=moment) for n in range(3)]
    del given[1]["object_id"], given[1]["role"]
    given[2]["error_code"] = "conflict"
    pool = eventlet.GreenPool(3)
    list(pool.imap(writer.write, given))
    with sessions() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.request_id)).all()
    assert [audit.view(row) | {"id": None} for row in rows] == [
        {column: values.get(column) for column in audit.COLUMNS} | {
            "id": None, "occurred_at": moment.isoformat()} for values in given]
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_audit_batches_on_postgresql_are_one_insert_each_in_autocommit(databases, monkeypatch):
    """Issue 13: the writer keeps one connection while it lives, in autocommit: a batch is its
    multi-row INSERT alone (no BEGIN, no COMMIT); every row is committed when record returns;
    the connection goes back to the pool out of autocommit."""
    sessions = keys.session_factory(databases.url("gateway"))
    inserts = []
    real_insert = audit.insert_rows_through

    def counting_insert(driver_connection, dialect, table, rows):
        inserts.append((driver_connection.autocommit, len(rows)))
        return real_insert(driver_connection, dialect, table, rows)

    monkeypatch.setattr(audit, "insert_rows_through", counting_insert)

    def request(n):
        audit.record(sessions, request_id=f"r{n}", actor_kind="key", actor_id="k", role="office",
                     org_id="a", method="POST", route="/api/v1/x", object_id=None, status=201,
                     error_code=None)
        engine = create_engine(sessions.kw["bind"].url)   # another connection sees it at once
        try:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).where(AuditRecord.request_id == f"r{n}"))
        finally:
            engine.dispose()

    pool = eventlet.GreenPool(30)
    assert list(pool.imap(request, range(30))) == [1] * 30
    assert all(autocommit for autocommit, _ in inserts) and sum(n for _, n in inserts) == 30
    assert len(inserts) < 30   # rows that waited went together
    with sessions() as session:
        assert session.connection().connection.driver_connection.autocommit is False
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_audit_writer_whose_connection_dies_writes_on_a_new_one(databases, monkeypatch):
    """A PostgreSQL restart while the writer holds its connection: the batch goes again on a
    new connection and lands (once)."""
    sessions = keys.session_factory(databases.url("gateway"))
    admin = create_engine(databases.server_url + "/postgres", isolation_level="AUTOCOMMIT")
    real_insert = audit.insert_rows_through
    killed = []

    def insert_after_a_kill(driver_connection, dialect, table, rows):
        if not killed:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                             {"pid": driver_connection.info.backend_pid})
            killed.append(driver_connection.info.backend_pid)
        return real_insert(driver_connection, dialect, table, rows)

    monkeypatch.setattr(audit, "insert_rows_through", insert_after_a_kill)
    audit.record(sessions, request_id="after-a-restart", actor_kind="key", actor_id="k",
                 role="office", org_id="a", method="POST", route="/x", object_id=None,
                 status=201, error_code=None)
    assert killed
    with sessions() as session:
        assert session.scalar(select(func.count()).where(
            AuditRecord.request_id == "after-a-restart")) == 1
    admin.dispose()
    sessions.kw["bind"].dispose()
