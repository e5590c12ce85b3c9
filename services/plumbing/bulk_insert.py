"""Many rows into one table in the session's transaction, for bulk imports: through the driver,
without SQLAlchemy's per-parameter work, which cost an import more than everything else.

PostgreSQL: one INSERT … SELECT over `jsonb_array_elements` of one parameter, the whole batch
as a JSON array of rows, each an array of its values in column order: one `json.dumps`, a
quarter of the work of named fields (`json_populate_recordset`), and as cheap for the server
(jsonb: `json` would parse each row again for every column). COPY would be cheaper, but
psycopg2 refuses it while eventlet's wait callback is set, and turning that off would block
every greenlet of the process while the server works.
SQLite: `executemany` of one INSERT (rows in one transaction are cheap there).

Each value is what a Core INSERT would send: a JSON column's value goes through the column's
own serialiser (and is stored as that text), the others through the column type's bind
processing for the dialect, and a column left out gets its scalar Python default.
"""
import datetime
import decimal
import json
import re

from sqlalchemy import JSON, Date, DateTime, Enum, Numeric, String, Table, Time, exc
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """INSERT every row (all with the same keys) into `table`, in the session's transaction."""
    if rows:
        connection = session.connection()
        insert_rows_through(connection.connection.driver_connection, connection.dialect, table,
                            rows)


def insert_rows_through(driver_connection, dialect, table: Table, rows: list[dict]) -> None:
    """insert_rows on a driver connection of the caller's (in autocommit, the INSERT alone is
    a transaction)."""
    keys = list(rows[0])
    columns, defaults = columns_filled(table, keys)
    # Column by column: a conversion maps over a whole column at once.
    values = [[row[key] for row in rows] for key in keys] + [[value] * len(rows) for value in defaults.values()]
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        processed = [_processed(_json_ready(column, dialect), column_values)
                     for column, column_values in zip(columns, values, strict=True)]
        picks = ", ".join(_pick(index, column, dialect) for index, column in enumerate(columns))
        statement = f"INSERT INTO {target} ({names}) SELECT {picks} FROM jsonb_array_elements(%s::jsonb) AS r"
        parameters = (json.dumps(list(zip(*processed, strict=True))),)
        run = "execute"
    else:
        processed = [_processed(column.type._cached_bind_processor(dialect), column_values)
                     for column, column_values in zip(columns, values, strict=True)]
        statement = f"INSERT INTO {target} ({names}) VALUES ({', '.join('?' * len(columns))})"
        parameters = list(zip(*processed, strict=True))
        run = "executemany"
    cursor = driver_connection.cursor()
    try:
        getattr(cursor, run)(statement, parameters)
    except dialect.loaded_dbapi.Error as error:
        # As SQLAlchemy would raise it (an IntegrityError for a unique key, …).
        raise exc.DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
    finally:
        cursor.close()


def columns_filled(table: Table, keys) -> tuple[list, dict]:
    """The columns rows with these keys fill: theirs, then those left out that have a
    constant default, with it (any other default is refused: give the value)."""
    defaults = {}
    for column in table.columns:
        if column.key in keys or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"give {table.name}.{column.key} explicitly: its default is not a constant")
        defaults[column.key] = column.default.arg
    return [table.c[key] for key in keys] + [table.c[key] for key in defaults], defaults


def _processed(process, values: list) -> list:
    """A column's values converted; a value shared by every row (one moment for a whole
    batch) is converted once."""
    if process is None:
        return values
    first = values[0]
    if all(value is first for value in values):
        return [process(first)] * len(values)
    return list(map(process, values))


def _json_ready(column, dialect):
    """PostgreSQL: how a column's value goes into the JSON array: a JSON column's as the text
    its serialiser makes (None included: SQLAlchemy stores JSON null, unless none_as_null),
    a date, time or moment in ISO form, a decimal as its digits, the rest (text, numbers,
    booleans) as it is."""
    if isinstance(column.type, JSON):
        return column.type._cached_bind_processor(dialect)
    if isinstance(column.type, (Date, DateTime, Time, Numeric)):
        return _plain_json
    return None


def _plain_json(value):
    if isinstance(value, (datetime.date, datetime.time)):  # datetimes are dates too
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"{type(value).__name__} cannot go into a bulk insert")


def _pick(index: int, column, dialect) -> str:
    """The column's value from the row's array: text, cast to the column's type (without its
    length or precision: the INSERT applies those, failing on a value too long, as always)."""
    value = f"r->>{index}"
    if isinstance(column.type, String) and not isinstance(column.type, Enum):
        return value
    type_name = re.sub(r"\(.*\)", "", column.type.compile(dialect=dialect))
    return f"({value})::{type_name}"
