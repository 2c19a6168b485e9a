"""Day numbers: the scores' calendar days (UTC) as days since 1970-01-01.

Scores count purchases per calendar day in UTC (same-day orders are one transaction, as
in the CDNOW studies). The SQL side, the same on SQLite and PostgreSQL, is
``tenure.db.dialect.Days``; per-customer results come back as day numbers so that Python
reads plain integers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tenure.db.dialect import EPOCH


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def midnight_after(number: int) -> datetime:
    """00:00 UTC of the day after day ``number``: "on or before that day" is "< this"."""
    return datetime.combine(from_day_number(number + 1), time(), tzinfo=UTC)
