"""Calendar days (UTC) in SQL on SQLite and PostgreSQL.

Retention counts purchases per calendar day (same-day orders are one purchase, as in the
scores) and measures lags between days in SQL so that the GROUP BY can bucket them.
SQLite stores timestamps as ISO text in UTC, so the day is its first ten characters;
PostgreSQL takes the date of the timestamp in UTC.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, String, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement


def day_of(dialect: str, timestamp: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column (sortable, comparable, groupable)."""
    if dialect == "sqlite":
        return func.substr(timestamp, 1, 10, type_=String)
    return cast(func.timezone("UTC", timestamp), Date)


def days_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from day ``earlier`` to day ``later`` (both from :func:`day_of`)."""
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)


def day_number(dialect: str, day: Any) -> ColumnElement[Any]:
    """Days since 1970-01-01 of a day from :func:`day_of` (a float on SQLite)."""
    if dialect == "sqlite":
        # julianday('1970-01-01') = 2440587.5
        return cast(func.julianday(day) - 2440587.5, Float)
    return cast(day - literal(date(1970, 1, 1), Date), Integer)


def day_value(dialect: str, day: date) -> ColumnElement[Any]:
    """A day constant comparable with :func:`day_of`."""
    if dialect == "sqlite":
        return literal(day.isoformat(), String)
    return literal(day, Date)
