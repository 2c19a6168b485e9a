"""Keyset pagination: an opaque cursor holds the sort value and id of the last row seen.

No COUNT(*) and no OFFSET: every page is an index range scan, however deep.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, TypeDecorator, tuple_
from sqlalchemy.orm import QueryableAttribute

from tenure.errors import InvalidInput


@dataclass(frozen=True)
class Cursor:
    value: Any
    id: int


def encode_cursor(value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_BIGINT = 2**63 - 1
INVALID_CURSOR = "is not a cursor this API returned: pass `next_cursor` as it came, or omit it"


def _is_bigint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_BIGINT


def decode_cursor(cursor: str) -> Cursor:
    """The position a cursor holds; any other string is a 422 naming ``cursor``.

    Cursors are opaque to clients, so anything can arrive here: values are checked to be
    what ``encode_cursor`` writes (a 64-bit id and a scalar) before they reach SQL.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if isinstance(value, dict) and set(value) == {"dt"} and isinstance(value["dt"], str):
            value = datetime.fromisoformat(value["dt"])
            if value.tzinfo is None:
                raise ValueError("naive datetime")
    except (ValueError, TypeError):
        raise InvalidInput("cursor", INVALID_CURSOR)
    scalar = value is None or isinstance(value, str | float | datetime) or _is_bigint(value)
    if not _is_bigint(row_id) or not scalar:
        raise InvalidInput("cursor", INVALID_CURSOR)
    return Cursor(value=value, id=row_id)


def _fits_column(value: Any, column: Any) -> bool:
    column_type = getattr(column, "type", None)
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type  # type: ignore[union-attr]
    except (AttributeError, NotImplementedError):
        return True
    if value is None:
        return True
    if python_type is datetime:
        return isinstance(value, datetime)
    if python_type is int:
        return _is_bigint(value)
    if python_type is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if python_type is str:
        return isinstance(value, str)
    return True


def apply_keyset(
    query: Select[Any],
    *,
    sort_column: ColumnElement[Any] | QueryableAttribute[Any],
    id_column: ColumnElement[Any] | QueryableAttribute[Any],
    descending: bool,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Order by (sort, id) and start after ``cursor``; fetches ``limit + 1`` to detect more."""
    if cursor:
        after = decode_cursor(cursor)
        if not _fits_column(after.value, sort_column):
            # A cursor of another list or sort order: its value would not compare.
            raise InvalidInput("cursor", INVALID_CURSOR)
        # Row values let SQLite and PostgreSQL seek straight into the (sort, id) index.
        key = tuple_(sort_column, id_column)
        bound = tuple_(after.value, after.id)
        query = query.where(key < bound if descending else key > bound)
    if descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(limit + 1)
