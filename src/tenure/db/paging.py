"""Keyset pagination: an opaque cursor holds the sort value and id of the last row seen.

No COUNT(*) and no OFFSET: every page is an index range scan, however deep.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, tuple_
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


def decode_cursor(cursor: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if isinstance(value, dict) and "dt" in value:
            value = datetime.fromisoformat(value["dt"])
        return Cursor(value=value, id=int(row_id))
    except (ValueError, TypeError):
        raise InvalidInput("cursor", "is not a cursor this API returned")


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
        # Row values let SQLite and PostgreSQL seek straight into the (sort, id) index.
        key = tuple_(sort_column, id_column)
        bound = tuple_(after.value, after.id)
        query = query.where(key < bound if descending else key > bound)
    if descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(limit + 1)
