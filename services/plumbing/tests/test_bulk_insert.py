"""insert_rows and insert_each write what a Core INSERT of the same rows writes, on PostgreSQL
and on SQLite: the same values read back (JSON columns as the same text), the same errors, in
the session's own transaction."""
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    cast,
    event,
    exc,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from services.plumbing.bulk_insert import insert_each, insert_rows
from services.plumbing.db import takes_a_unique_value
from services.plumbing.tables import BigIntId
from services.plumbing.tests.scratch import scratch_engine

metadata = MetaData()
probe = Table(
    "bulk_probe", metadata,
    Column("seq", BigIntId, primary_key=True, autoincrement=True),
    Column("key", String(36), nullable=False, unique=True),
    Column("code", String(5)),
    Column("body", Text),
    Column("day", Date),
    Column("moment", DateTime(timezone=True)),
    Column("amount", Numeric(14, 2)),
    Column("count", Integer),
    Column("flag", Boolean),
    Column("doc", JSON),
    Column("attempts", Integer, nullable=False, default=0),
)
child = Table("bulk_probe_child", metadata, Column("id", Integer, primary_key=True),
              Column("probe_key", ForeignKey("bulk_probe.key"), nullable=False))
with_callable_default = Table("bulk_probe_2", MetaData(), Column("key", String(36), primary_key=True),
                              Column("made", DateTime, default=datetime.now))

TEXTS = ["", "tab\there", "new\nline\r\n", "back\\slash \\N", 'quote" and \'', "党员 བཀྲ་ཤིས 🚩",
         "{\"looks\": [\"like json\"]}", "50% off, %s and %(key)s", None]
DOCS = [["普通话", "藏语"], {"a": [1, None, "x\\y"], "b": {"c": "\u00e9"}}, [], None, "text", 7]


def rows(prefix: str) -> list[dict]:
    moment = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
    return [{"key": f"{prefix}-{i}", "code": f"c{i % 10}", "body": TEXTS[i % len(TEXTS)],
             "day": date(1950, 1, 1) + timedelta(days=i * 97) if i % 5 else None,
             "moment": moment + timedelta(seconds=i) if i % 7 else moment.astimezone(timezone(timedelta(hours=8))),
             "amount": Decimal(f"{i}.{i % 100:02d}"), "count": i if i % 6 else None,
             "flag": (None, True, False)[i % 3], "doc": DOCS[i % len(DOCS)], "attempts": i % 4}
            for i in range(60)]


@pytest.fixture
def engine(backend, tmp_path, request):
    with scratch_engine(backend, tmp_path, request, metadata, "bulk") as engine:
        yield engine


def stored(engine, prefix: str) -> list[tuple]:
    columns = [c for c in probe.c if c.key not in ("seq", "key", "doc")]
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(
            select(*columns, probe.c.doc, cast(probe.c.doc, Text))
            .where(probe.c.key.startswith(prefix + "-")).order_by(probe.c.seq))]


def test_the_rows_read_back_as_those_of_a_core_insert(engine):
    with Session(engine) as session:
        session.execute(insert(probe), rows("core"))
        insert_rows(session, probe, rows("bulk"))
        session.commit()
    core, bulk = stored(engine, "core"), stored(engine, "bulk")
    assert len(bulk) == 60 and bulk == core
    assert {row[-1] is None for row in bulk} == {False}  # None in a JSON column: JSON null


def test_a_column_left_out_gets_its_default_and_the_key_its_sequence(engine):
    with Session(engine) as session:
        insert_rows(session, probe, [{"key": "a"}, {"key": "b"}])
        session.commit()
        assert session.execute(select(probe.c.attempts, probe.c.body).order_by(probe.c.seq)).all() == [
            (0, None), (0, None)]
        assert session.scalar(select(func.count(func.distinct(probe.c.seq)))) == 2
        with pytest.raises(ValueError, match="made"):
            insert_rows(session, with_callable_default, [{"key": "a"}])


def test_errors_are_sqlalchemy_s_and_the_rows_go_with_the_transaction(engine):
    with Session(engine) as session:
        insert_rows(session, probe, rows("one")[:3])
        with pytest.raises(exc.IntegrityError):
            insert_rows(session, probe, rows("one")[2:4])  # one key again
        session.rollback()
        assert session.scalar(select(func.count()).select_from(probe)) == 0
        if engine.dialect.name == "postgresql":  # SQLite keeps any length
            with pytest.raises(exc.DataError):
                insert_rows(session, probe, [{"key": "long", "code": "123456"}])
            session.rollback()
            with pytest.raises(exc.DataError):
                session.execute(insert(probe), [{"key": "long", "code": "123456"}])


def test_insert_each_reads_back_as_core_inserts(engine):
    with Session(engine) as session:
        session.execute(insert(probe), rows("core"))
        insert_each(session, [(probe, row) for row in rows("each")])
        session.commit()
    core, each = stored(engine, "core"), stored(engine, "each")
    assert len(each) == 60 and each == core


def test_insert_each_is_one_statement_on_postgresql_in_order(engine):
    executed = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: args[2].startswith("INSERT") and executed.append(args[2]))
    with Session(engine) as session:
        insert_each(session, [(probe, {"key": "parent"}), (child, {"id": 1, "probe_key": "parent"}),
                              (child, {"id": 2, "probe_key": "parent"})])
        assert len(executed) == (1 if engine.dialect.name == "postgresql" else 3)
        session.commit()
        assert session.scalar(select(func.count()).select_from(child)) == 2
        assert session.scalar(select(probe.c.attempts)) == 0   # a constant default, filled in
        with pytest.raises(ValueError, match="made"):
            insert_each(session, [(with_callable_default, {"key": "a"})])


def test_insert_each_errors_name_their_constraint_and_leave_nothing(engine):
    with Session(engine) as session:
        insert_each(session, [(probe, {"key": "taken"})])
        session.commit()
        with pytest.raises(exc.IntegrityError) as taken:
            insert_each(session, [(probe, {"key": "new"}), (probe, {"key": "taken"}),
                                  (child, {"id": 1, "probe_key": "new"})])
        assert takes_a_unique_value(taken.value, probe.c.key)
        assert not takes_a_unique_value(taken.value, probe.c.code)
        session.rollback()
        with pytest.raises(exc.IntegrityError) as missing:
            insert_each(session, [(probe, {"key": "new"}), (child, {"id": 1, "probe_key": "nowhere"})])
        assert not takes_a_unique_value(missing.value, probe.c.key)
        session.rollback()
        assert session.scalars(select(probe.c.key)).all() == ["taken"]
        assert session.scalar(select(func.count()).select_from(child)) == 0
