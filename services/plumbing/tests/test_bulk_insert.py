"""insert_rows writes what a Core INSERT of the same rows writes, on PostgreSQL and on SQLite:
the same values read back (JSON columns as the same text), the same errors, in the session's
own transaction."""
import pytest
from sqlalchemy import exc, func, insert, select
from sqlalchemy.orm import Session

from services.plumbing.bulk_insert import insert_rows
from services.plumbing.tests.probe_rows import (
    metadata,  # noqa: F401 - the conftest's engine holds its tables
    probe,
    rows,
    with_callable_default,
    written_and_by_core,
)


def test_the_rows_read_back_as_those_of_a_core_insert(engine):
    bulk, core = written_and_by_core(engine, lambda session, rows: insert_rows(session, probe, rows))
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

