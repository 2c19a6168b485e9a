"""Bulk inserts that keep up with ingestion.

SQLAlchemy's per-row bind processing costs ~35 us a row (measured: 10,000 events in
0.37 s through Core, 0.79 s through the ORM with RETURNING), against ~2 us for the raw
``sqlite3`` executemany. On SQLite this module therefore converts values itself and calls
the driver's executemany; ids come from the rowid sequence, which is contiguous for one
statement inside a write transaction (SQLite has a single writer and assigns max+1).
Elsewhere it uses Core's insertmanyvalues with RETURNING.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import JSON, Connection, Select, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable, FromClause

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Tenure stores timezone-aware times only")
    # isoformat is ~4x faster than strftime and gives SQLAlchemy's SQLite storage format.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _sqlite_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Convert only the columns that hold datetimes or JSON documents, judged by type."""
    width = len(rows[0])
    converters: dict[int, Any] = {}
    for column in range(width):
        sample = next((row[column] for row in rows if row[column] is not None), None)
        if isinstance(sample, datetime):
            converters[column] = _sqlite_datetime
        elif isinstance(sample, dict | list):
            converters[column] = _sqlite_json
    if not converters:
        return [tuple(row) for row in rows]
    converted = []
    previous: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        values = list(row)
        for column, convert in converters.items():
            value = values[column]
            seen = previous.get(column)
            # A batch often repeats one value (received_at, an empty payload).
            if seen is not None and seen[0] is value:
                values[column] = seen[1]
            else:
                values[column] = convert(value)
                previous[column] = (value, values[column])
        converted.append(tuple(values))
    return converted


def insert_rows(
    connection: Connection,
    table: Table | FromClause,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (tuples in ``columns`` order); return their ids in order if asked."""
    if not rows:
        return []
    assert isinstance(table, Table), "insert_rows takes a table (Model.__table__)"
    if connection.dialect.name == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        connection.exec_driver_sql(sql, _sqlite_rows(rows))
        if not return_ids:
            return []
        last = connection.execute(select(func.max(table.c.id))).scalar_one()
        return list(range(last - len(rows) + 1, last + 1))
    params = [dict(zip(columns, row, strict=True)) for row in rows]
    if not return_ids:
        connection.execute(insert(table), params)
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(connection.execute(statement, params).scalars())


def copy_rows(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    json_column: int | None = None,
) -> None:
    """COPY ``rows`` into ``table`` on PostgreSQL, in the connection's transaction.

    Measured on 20,000 stage changes: insertmanyvalues with RETURNING plus executemany
    took 18.7 s (psycopg spent most of it splitting the multi-row statement), COPY well
    under a second. COPY returns no ids. ``json_column`` is the index of a JSON value.
    """
    raw: Any = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            if json_column is not None:
                as_text = orjson.dumps(row[json_column]).decode()
                row = (*row[:json_column], as_text, *row[json_column + 1 :])
            copy.write_row(row)


def load_rows(
    connection: Connection,
    table: Table | FromClause,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` the fastest way the backend has; return their ids in order if asked.

    PostgreSQL: COPY, the ids drawn from the table's sequence first (one statement) and
    sent with the rows, ascending in row order as ``insert_rows`` gives them. Measured on
    an import of 25,000 contacts: people, identities and import links through
    insertmanyvalues with RETURNING took 5.5 s, through COPY 2.3 s (most of it the COPY
    itself, on a loaded machine). Values go as ``insert_rows`` takes them (what the column
    stores; no SQLAlchemy bind processing), JSON columns as documents. SQLite:
    ``insert_rows`` (the driver's executemany).
    """
    if not rows:
        return []
    assert isinstance(table, Table), "load_rows takes a table (Model.__table__)"
    if connection.dialect.name != "postgresql":
        return insert_rows(connection, table, columns, rows, return_ids=return_ids)
    ids: list[int] = []
    if return_ids:
        sequence = connection.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%(table)s, 'id')", {"table": table.name}
        ).scalar_one()
        ids = sorted(
            connection.exec_driver_sql(
                "SELECT nextval(%(sequence)s::regclass) FROM generate_series(1, %(count)s)",
                {"sequence": sequence, "count": len(rows)},
            ).scalars()
        )
        columns = ("id", *columns)
        rows = [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)]
    json_columns = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    quote = connection.dialect.identifier_preparer.quote  # "column" is a reserved word
    listed = ", ".join(quote(name) for name in columns)
    statement = f"COPY {quote(table.name)} ({listed}) FROM STDIN"
    raw: Any = connection.connection.driver_connection
    try:
        _copy(raw, statement, rows, json_columns)
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        # COPY goes to the driver itself, under SQLAlchemy: raise what an INSERT raises,
        # so callers that settle a race on a unique key (two imports creating the same
        # identity: ingest.runner retries the chunk) still recognise it.
        raise IntegrityError(statement, None, error) from error
    return ids


def _copy(raw: Any, statement: str, rows: Sequence[Sequence[Any]], json_columns: list[int]) -> None:
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        if not json_columns:
            for row in rows:
                copy.write_row(row)
            return
        for row in rows:
            values = list(row)
            for index in json_columns:
                if values[index] is not None:
                    values[index] = orjson.dumps(values[index]).decode()
            copy.write_row(values)


def release_page_cache(connection: Connection) -> None:
    """Let SQLite free its page cache on ``connection`` (nothing elsewhere).

    The cache (``PRAGMA cache_size``, 64 MB a connection) keeps the pages a bulk load
    wrote: an import's resident memory grew with the database until the cap (+55 MB from
    25,000 to 100,000 contacts). Reads go through the memory map, so the next chunk
    loses little; called between chunks, the import's memory stays flat.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA shrink_memory")


def driver_rows(connection: Connection, statement: Executable) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` as the driver returns it: the parameters go through
    SQLAlchemy, the rows do not. For reads of a million rows, where building a ``Row``
    each costs about a second; the columns must need no result processing (numbers,
    text, or ``type_coerce``-d)."""
    result = connection.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def float_rows(connection: Connection, statement: Select[Any]) -> NDArray[np.float64]:
    """Every row of ``statement``, whose columns are all numbers, as one 2-D float array
    (NULL as NaN): a third of ``DataFrame.from_records``' time for a million rows.
    (``COPY ... TO STDOUT`` parsed by pandas was measured no faster on PostgreSQL.)"""
    import numpy  # imported here: the request path never needs the analytics' stack

    rows = driver_rows(connection, statement)
    return numpy.array(rows, dtype=float).reshape(len(rows), len(statement.selected_columns))
