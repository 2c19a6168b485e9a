"""Rows for PostgreSQL's ``COPY ... FROM STDIN (FORMAT BINARY)``, built from whole
columns with numpy.

Text-format COPY of a million score rows spent ~5 s in Python formatting numbers and
joining each row's 21 fields (and the server as long parsing them back). In the binary
format a number is its big-endian bytes: every column without a NULL and of one width
on every row (numbers, timestamps, a text with one value for all rows) goes into one
numpy record per row, written with a single ``tobytes``. Only the columns left (a
number with NULLs, a text whose values differ) are added per row, after the fixed part:
:func:`binary_blocks` returns the column order it wrote, for the ``COPY`` column list.
Columns made a block of rows at a time (:class:`LateColumns`) come last: a caller can
compute them while the blocks before are being sent and stored.

Types: ``int2``, ``int4``, ``int8``, ``float8``, ``timestamptz`` (microseconds since
2000-01-01 UTC, the server's integer datetimes) and ``text`` (UTF-8, the client
encoding psycopg sets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
TRAILER = b"\xff\xff"
NULL = b"\xff\xff\xff\xff"
_NUMBERS = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: The types above by the name PostgreSQL gives a column's type (length left off).
_BY_SQL_NAME = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "FLOAT": "float8",  # no precision: double precision
    "DOUBLE PRECISION": "float8",
    "VARCHAR": "text",
    "TEXT": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def column_types(table: Table, names: Iterable[str]) -> dict[str, str]:
    """The binary types of ``table``'s columns ``names``, from their SQLAlchemy types as
    PostgreSQL names them (a type not listed raises KeyError naming it)."""
    dialect = postgresql.dialect()
    types = {}
    for name in names:
        sql_name = table.c[name].type.compile(dialect=dialect).partition("(")[0]
        types[name] = _BY_SQL_NAME[sql_name]
    return types


@dataclass
class _Fixed:
    name: str
    format: str
    values: Any


@dataclass(frozen=True)
class LateColumns:
    """Columns made a block of rows at a time: ``make(start, stop)`` returns them (a
    frame with the columns of ``types``) for rows ``start:stop`` of the frame."""

    types: Mapping[str, str]
    make: Callable[[int, int], pd.DataFrame]


def binary_blocks(
    frame: pd.DataFrame,
    types: Mapping[str, str],
    rows_per_block: int,
    *,
    late: LateColumns | None = None,
) -> tuple[list[str], Iterator[bytes]]:
    """The rows of ``frame`` (the columns named in ``types``) in COPY's binary format, in
    blocks of ``rows_per_block`` rows, the first starting with :data:`SIGNATURE` and the
    last ending with :data:`TRAILER`; and the column order they are in (for the COPY's
    column list). Missing values (NaN, NA, None) are NULL. The ``late`` columns follow
    the others, made for each block as it is joined."""
    fixed: list[_Fixed] = []
    varying: list[tuple[str, list[bytes]]] = []
    for name, kind in types.items():
        series = frame[name]
        if kind == "text":
            codes, encoded = _factorized(series)
            if len(encoded) == 1 and (codes == 0).all():  # one value, no NULL
                fixed.append(_Fixed(name, f"S{len(encoded[0])}", encoded[0]))
            else:
                varying.append((name, _text_fields(codes, encoded)))
        elif series.isna().any():
            varying.append((name, _number_fields(kind, series)))
        else:
            fixed.append(_Fixed(name, _NUMBERS[kind], _numbers(kind, series)))
    dtype = [("count", ">i2")]
    for at, column in enumerate(fixed):
        dtype += [(f"size{at}", ">i4"), (f"value{at}", column.format)]
    records = np.empty(len(frame), dtype=dtype)
    late_types = late.types if late is not None else {}
    records["count"] = len(types) + len(late_types)
    for at, column in enumerate(fixed):
        records[f"size{at}"] = records.dtype[f"value{at}"].itemsize
        records[f"value{at}"] = column.values
    order = [column.name for column in fixed] + [name for name, _ in varying]
    columns = [_each_record(records), *(fields for _, fields in varying)]
    order += list(late_types)
    return order, _blocks(columns, len(frame), rows_per_block, late)


def _blocks(
    columns: list[list[bytes]], rows: int, size: int, late: LateColumns | None
) -> Iterator[bytes]:
    """Each block's rows joined (a row is its fields in ``columns`` order, then the
    ``late`` columns made for the block)."""
    yield SIGNATURE
    for start in range(0, rows, size):
        stop = min(start + size, rows)
        parts = [column[start:stop] for column in columns]
        if late is not None:
            made = late.make(start, stop)
            parts += [_varying_fields(kind, made[name]) for name, kind in late.types.items()]
        yield b"".join(chain.from_iterable(zip(*parts, strict=True)))
    yield TRAILER


def _factorized(series: pd.Series) -> tuple[np.ndarray, list[bytes]]:
    """Each value's code (-1 where missing) and the distinct values, UTF-8 encoded."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object))
    return codes, [str(value).encode() for value in uniques]


def _varying_fields(kind: str, series: pd.Series) -> list[bytes]:
    """Each row's field, NULL where missing, whatever the other rows hold."""
    if kind == "text":
        return _text_fields(*_factorized(series))
    return _number_fields(kind, series)


def _each_record(records: np.ndarray) -> list[bytes]:
    block = records.tobytes()
    width = records.dtype.itemsize
    return [block[start : start + width] for start in range(0, len(block), width)]


def _numbers(kind: str, series: pd.Series) -> Any:
    if kind == "timestamptz":
        since = pd.to_datetime(series, utc=True) - pd.Timestamp(_EPOCH)
        return since.to_numpy(dtype="timedelta64[us]").astype(np.int64)
    if isinstance(series.dtype, pd.Int64Dtype):
        return series.to_numpy(dtype=np.int64, na_value=0)
    return series.to_numpy()


def _text_fields(codes: np.ndarray, encoded: list[bytes]) -> list[bytes]:
    """Each row's field (its size, then its UTF-8 bytes); code -1 (missing) is NULL."""
    fields = [len(value).to_bytes(4, "big") + value for value in encoded] + [NULL]
    return list(np.array(fields, dtype=object)[codes])


def _number_fields(kind: str, series: pd.Series) -> list[bytes]:
    """Each row's field (its size, then its bytes), NULL where missing."""
    missing = series.isna().to_numpy()
    records = np.empty(len(series), dtype=[("size", ">i4"), ("value", _NUMBERS[kind])])
    records["size"] = records.dtype["value"].itemsize
    records["value"] = _numbers(kind, series.where(~missing, 0))
    fields = _each_record(records)
    for at in np.flatnonzero(missing).tolist():
        fields[at] = NULL
    return fields
