"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid alias; BIGINT is not.
Id = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL gives indexable, compact payloads; plain JSON text on SQLite.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored in UTC.

    SQLite keeps no offset, so values are converted to UTC on the way in and given
    ``tzinfo=UTC`` on the way out; naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Tenure stores timezone-aware times only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite stores text: parsed by the stdlib's C fromisoformat instead of the
        # dialect's regular expression and then this decorator (a tenth of the cost, and
        # a people list page reads 100 timestamps).
        return _sqlite_utc_datetime

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        # Stored without an offset (process_bind_param): parsed as UTC directly, a
        # seventh of the cost of ``.replace(tzinfo=UTC)`` after parsing.
        parsed = datetime.fromisoformat(value + "+00:00")
    except ValueError:  # written with an offset by hand
        return datetime.fromisoformat(value).astimezone(UTC)
    # A date alone takes the suffix as nothing: midnight, naive.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
