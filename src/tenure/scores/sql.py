"""Calendar days in SQL, the same on SQLite and PostgreSQL.

Scores count purchases per calendar day in UTC (same-day orders are one transaction, as
in the CDNOW studies). SQLite stores ``occurred_at`` as ISO text in UTC, so the day is its
first ten characters, which compare and sort like dates; PostgreSQL takes the date of the
timestamp in UTC. Per-customer results are returned as day numbers (days since
1970-01-01) so that Python reads plain integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, String, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

EPOCH = date(1970, 1, 1)
# julianday('1970-01-01') in SQLite.
_JULIAN_EPOCH = 2440587.5


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass(frozen=True)
class Days:
    """Day expressions for one SQL dialect (``sqlite`` or ``postgresql``)."""

    dialect: str

    def of(self, timestamp: Any) -> ColumnElement[Any]:
        """The UTC calendar day of a timestamp column."""
        if self.dialect == "sqlite":
            return func.substr(timestamp, 1, 10, type_=String)
        return cast(func.timezone("UTC", timestamp), Date)

    def value(self, day: date) -> ColumnElement[Any]:
        """A day constant comparable with :meth:`of`."""
        if self.dialect == "sqlite":
            return literal(day.isoformat(), String)
        return literal(day, Date)

    def number(self, day: ColumnElement[Any]) -> ColumnElement[int]:
        """Day number (days since 1970-01-01) of a day expression."""
        if self.dialect == "sqlite":
            return cast(func.julianday(day) - _JULIAN_EPOCH, Integer)
        return cast(day - literal(EPOCH, Date), Integer)

    def month(self, timestamp: Any) -> ColumnElement[Any]:
        """The UTC calendar month of a timestamp as ``YYYY-MM`` text."""
        if self.dialect == "sqlite":
            return func.substr(timestamp, 1, 7, type_=String)
        return func.to_char(func.timezone("UTC", timestamp), "YYYY-MM", type_=String)
