"""together.write_each: INSERTs and UPDATEs by key sent as one message to PostgreSQL (one by one
to SQLite) write what Core statements write, in order, in the session's transaction, and fail
as they would, naming their constraint."""
import pytest
from sqlalchemy import event, exc, func, insert, select
from sqlalchemy.orm import Session

from services.plumbing.db import takes_a_unique_value
from services.plumbing.tests.probe_rows import (
    TEXTS,
    child,
    metadata,  # noqa: F401 - the conftest's engine holds its tables
    named_key,
    probe,
    rows,
    stored,
    with_callable_default,
    written_and_by_core,
)
from services.plumbing.together import RowUpdate, insert_new, write_each


def test_inserts_read_back_as_core_inserts(engine):
    each, core = written_and_by_core(
        engine, lambda session, rows: write_each(session, [(probe, row) for row in rows]))
    assert len(each) == 60 and each == core


def test_inserts_are_one_message_to_postgresql_in_order(engine):
    executed = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: args[2].startswith("INSERT") and executed.append(args[2]))
    with Session(engine) as session:
        write_each(session, [(probe, {"key": "parent"}), (child, {"id": 1, "probe_key": "parent"}),
                              (child, {"id": 2, "probe_key": "parent"})])
        assert len(executed) == (1 if engine.dialect.name == "postgresql" else 3)
        session.commit()
        assert session.scalar(select(func.count()).select_from(child)) == 2
        assert session.scalar(select(probe.c.attempts)) == 0   # a constant default, filled in
        with pytest.raises(ValueError, match="made"):
            write_each(session, [(with_callable_default, {"key": "a"})])


def test_errors_name_their_constraint_and_leave_nothing(engine):
    with Session(engine) as session:
        write_each(session, [(probe, {"key": "taken"})])
        session.commit()
        with pytest.raises(exc.IntegrityError) as taken:
            write_each(session, [(probe, {"key": "new"}), (probe, {"key": "taken"}),
                                  (child, {"id": 1, "probe_key": "new"})])
        assert takes_a_unique_value(taken.value, probe.c.key)
        assert not takes_a_unique_value(taken.value, probe.c.code)
        session.rollback()
        with pytest.raises(exc.IntegrityError) as missing:
            write_each(session, [(probe, {"key": "new"}), (child, {"id": 1, "probe_key": "nowhere"})])
        assert not takes_a_unique_value(missing.value, probe.c.key)
        session.rollback()
        write_each(session, [(named_key, {"id": 1, "code": "a"})])
        session.commit()
        with pytest.raises(exc.IntegrityError) as named:
            write_each(session, [(named_key, {"id": 2, "code": "a"})])
        assert takes_a_unique_value(named.value, named_key.c.code)
        session.rollback()
        with pytest.raises(exc.IntegrityError) as primary:
            write_each(session, [(named_key, {"id": 1, "code": "b"})])
        assert not takes_a_unique_value(primary.value, named_key.c.code)
        session.rollback()
        assert session.scalars(select(probe.c.key)).all() == ["taken"]
        assert session.scalar(select(func.count()).select_from(child)) == 0


def test_updates_by_key_write_what_core_updates_write(engine):
    with Session(engine) as session:
        session.execute(insert(probe), rows("core") + rows("each"))
        changes = [{key: row[key] for key in ("body", "day", "moment", "amount", "doc", "flag")}
                   for row in reversed(rows("x"))]
        for index, change in enumerate(changes):
            session.execute(probe.update().where(probe.c.key == f"core-{index}").values(change))
        write_each(session, [RowUpdate(probe, {"key": f"each-{index}"}, change)
                             for index, change in enumerate(changes)])
        session.commit()
    assert stored(engine, "each") == stored(engine, "core")


def test_an_update_and_inserts_together_in_order(engine):
    executed = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: args[2].startswith(("INSERT", "UPDATE")) and executed.append(args[2]))
    with Session(engine) as session:
        write_each(session, [(probe, {"key": "k", "body": TEXTS[-2]}),
                             RowUpdate(probe, {"key": "k", "code": None}, {"attempts": 9}),   # no row
                             RowUpdate(probe, {"key": "k"}, {"attempts": 3, "body": "100%"}),
                             (child, {"id": 1, "probe_key": "k"})])
        session.commit()
        assert session.execute(select(probe.c.attempts, probe.c.body)).one() == (3, "100%")
    assert len(executed) == (1 if engine.dialect.name == "postgresql" else 4)


def test_insert_new_inserts_the_rows_whose_key_is_free_and_says_which(engine):
    with Session(engine) as session:
        session.execute(insert(probe), rows("core"))
        assert insert_new(session, probe, rows("new")[:30], key=("key",), returning="key") == {
            f"new-{i}" for i in range(30)}
        taken = [{**row, "body": "changed"} for row in rows("new")[25:35]]
        assert insert_new(session, probe, taken, key=("key",), returning="key") == {
            f"new-{i}" for i in range(30, 35)}
        assert insert_new(session, probe, [], key=("key",), returning="key") == set()
        session.commit()
    new = stored(engine, "new")
    assert new[:30] == stored(engine, "core")[:30]   # as a Core INSERT writes them, kept
    assert [row[1] for row in new[30:]] == ["changed"] * 5
