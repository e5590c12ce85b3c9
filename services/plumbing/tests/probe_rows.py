"""Tables and rows for the plumbing's bulk and together writes, each value of a kind a Core
INSERT must get right (text with quotes, backslashes, percent signs and scripts beyond
Chinese; JSON of every shape; moments in two zones; exact decimals; NULLs)."""
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

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
    UniqueConstraint,
    cast,
    insert,
    select,
)
from sqlalchemy.orm import Session

from services.plumbing.tables import BigIntId

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
# A unique key the model names (the server reports its name, not a column).
named_key = Table("bulk_probe_named", metadata, Column("id", Integer, primary_key=True),
                  Column("code", String(5)), UniqueConstraint("code", name="uq_probe_code"))
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


def stored(engine, prefix: str) -> list[tuple]:
    columns = [c for c in probe.c if c.key not in ("seq", "key", "doc")]
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(
            select(*columns, probe.c.doc, cast(probe.c.doc, Text))
            .where(probe.c.key.startswith(prefix + "-")).order_by(probe.c.seq))]


def written_and_by_core(engine, write) -> tuple[list, list]:
    """The probe rows as `write(session, rows)` stored them, and as Core INSERTs did."""
    with Session(engine) as session:
        session.execute(insert(probe), rows("core"))
        write(session, rows("written"))
        session.commit()
    return stored(engine, "written"), stored(engine, "core")
