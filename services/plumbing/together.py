"""A transaction's few single-row writes (a row into this table and that, a row updated by its
key) sent to PostgreSQL as one message: one round trip, and none of SQLAlchemy's statement
execution, for all of them. A registration's member, flow record and outbox row each cost a
round trip and an execution, a third of the members service's time for it (issue 13). And a
batch of rows of which only those whose key is new go in (insert_new), for consumers.

Each value goes in as a Core statement would send it: through its column type's bind
processing for the dialect, quoted by the driver (as any execute() with parameters is); a
column an INSERT leaves out gets its constant default. SQLite runs the same statements one by
one. Errors are SQLAlchemy's, as for any statement (an IntegrityError names its constraint: see
db.takes_a_unique_value); the server stops at the first, and the transaction is to be rolled
back after one either way.
"""
from functools import lru_cache
from typing import NamedTuple

from psycopg2.extensions import encodings
from sqlalchemy import Table
from sqlalchemy.orm import Session

from .bulk_insert import columns_filled


class RowUpdate(NamedTuple):
    """UPDATE table SET values WHERE the key columns equal `key`."""
    table: Table
    key: dict
    values: dict


def write_each(session: Session, writes: list) -> None:
    """Each write in order, in the session's transaction: a (table, row) tuple is an INSERT of
    the row, a RowUpdate an UPDATE."""
    connection = session.connection()
    statements = [_statement(connection.dialect, write) for write in writes]
    if connection.dialect.name != "postgresql":
        for statement in statements:
            connection.exec_driver_sql(*statement)
        return
    _execute_quoted(connection, _quoted(connection, statements, b";\n"))


def insert_new(session: Session, table: Table, rows: list[dict], key: tuple[str, ...],
               returning: str) -> set:
    """INSERT the rows (all with the same keys; a batch of deliveries, tens of rows: the whole
    batch is one statement, and SQLite counts its parameters) whose `key` columns are not taken
    yet, as one INSERT … ON CONFLICT DO NOTHING of many VALUES; returns the `returning`
    column's values of the rows it inserted. Concurrent inserts of a key wait for each other
    (the unique index). SQLAlchemy sends this as its "insertmanyvalues", rebuilt at every batch
    size: a fifth of a projection's time (issue 13)."""
    if not rows:
        return set()
    connection = session.connection()
    dialect = connection.dialect
    statement, keys, defaults, processors = _insert(dialect, table, tuple(rows[0]))
    head, _, one_row = statement.partition(" VALUES ")
    quote = dialect.identifier_preparer.quote
    tail = (f" ON CONFLICT ({', '.join(quote(table.c[name].name) for name in key)}) DO NOTHING"
            f" RETURNING {quote(table.c[returning].name)}")
    values = [_bound(processors, [row[k] for k in keys] + defaults) for row in rows]
    if dialect.name != "postgresql":
        result = connection.exec_driver_sql(
            f"{head} VALUES {', '.join([one_row] * len(rows))}{tail}",
            tuple(value for row in values for value in row))
    else:
        listed = _quoted(connection, [(one_row, row) for row in values], b", ")
        result = _execute_quoted(connection, f"{head} VALUES {listed}{tail}")
    return set(result.scalars())


def _statement(dialect, write) -> tuple[str, tuple]:
    """A write as its statement, a placeholder a value, and its values as bound."""
    if isinstance(write, RowUpdate):
        statement, processors = _update(dialect, write.table, tuple(write.values),
                                        tuple(write.key))
        return statement, _bound(processors, [*write.values.values(), *write.key.values()])
    table, row = write
    statement, keys, defaults, processors = _insert(dialect, table, tuple(row))
    return statement, _bound(processors, [row[key] for key in keys] + defaults)


def _bound(processors: list, values: list) -> tuple:
    return tuple(value if process is None else process(value)
                 for process, value in zip(processors, values, strict=True))


def _quoted(connection, statements: list[tuple[str, tuple]], separator: bytes) -> str:
    """The statements with their values quoted in by the driver (as it does for every
    execute() with parameters), joined."""
    driver_connection = connection.connection.driver_connection
    cursor = driver_connection.cursor()
    try:
        text = separator.join(cursor.mogrify(statement, values) for statement, values in statements)
    finally:
        cursor.close()
    return text.decode(encodings[driver_connection.encoding])


def _execute_quoted(connection, text: str):
    # no_parameters: the driver must not look for placeholders in the quoted values ("50%").
    return connection.exec_driver_sql(text, execution_options={"no_parameters": True})


@lru_cache(maxsize=256)
def _insert(dialect, table: Table, keys: tuple[str, ...]):
    """An INSERT of a row with these keys, a placeholder a column; the keys; the constant
    defaults of the columns it leaves out; each column's bind processing."""
    columns, defaults = columns_filled(table, keys)
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    statement = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
                 f"VALUES ({', '.join([_placeholder(dialect)] * len(columns))})")
    return statement, keys, list(defaults.values()), _processors(dialect, columns)


@lru_cache(maxsize=256)
def _update(dialect, table: Table, value_keys: tuple[str, ...], key_keys: tuple[str, ...]):
    """An UPDATE of these columns of the row with this key (values, then key, a placeholder
    each) and each parameter's bind processing."""
    quote, placeholder = dialect.identifier_preparer.quote, _placeholder(dialect)
    assignments = ", ".join(f"{quote(table.c[key].name)} = {placeholder}" for key in value_keys)
    where = " AND ".join(f"{quote(table.c[key].name)} = {placeholder}" for key in key_keys)
    statement = (f"UPDATE {dialect.identifier_preparer.format_table(table)} "
                 f"SET {assignments} WHERE {where}")
    return statement, _processors(dialect, [table.c[key] for key in value_keys + key_keys])


def _placeholder(dialect) -> str:
    return "%s" if dialect.name == "postgresql" else "?"


def _processors(dialect, columns) -> list:
    return [column.type._cached_bind_processor(dialect) for column in columns]
