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
from typing import Any

import orjson
from sqlalchemy import Connection, Table, func, insert, select

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own SQLite storage format


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Tenure stores timezone-aware times only")
        return value.astimezone(UTC).strftime(_SQLITE_DATETIME)
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    return_ids: bool = False,
) -> list[int]:
    """Insert ``rows`` (tuples in ``columns`` order); return their ids in order if asked."""
    if not rows:
        return []
    if connection.dialect.name == "sqlite":
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        converted = [tuple(_sqlite_value(v) for v in row) for row in rows]
        connection.exec_driver_sql(sql, converted)
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
