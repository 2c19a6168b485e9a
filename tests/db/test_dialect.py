"""The dialect helpers give the same answers on SQLite and PostgreSQL, to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from tenure.db.dialect import (
    MICROS_PER_DAY,
    Days,
    days_before,
    days_between,
    epoch_micros,
    id_in,
    member_of,
    moment,
)
from tenure.db.types import UTCDateTime

LATE = datetime(2026, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def _timestamp(session: Session, value: datetime):
    """A value as a timestamp column holds it (ISO text on SQLite)."""
    return moment(session.get_bind().dialect.name, value)


def test_a_span_of_one_microsecond_is_not_zero(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    earlier = _timestamp(session, LATE - timedelta(microseconds=1))
    later = _timestamp(session, LATE)
    span = session.scalar(select(days_between(dialect, later, earlier)))
    # julianday() keeps milliseconds: SQLite said 0.0 here.
    assert span == 1 / MICROS_PER_DAY


def test_spans_across_days_and_zones_are_exact(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    start = datetime(2026, 3, 31, 20, tzinfo=UTC) - timedelta(hours=4)
    end = datetime(2026, 4, 2, 0, 0, 0, 1, tzinfo=UTC)
    span = session.scalar(
        select(days_between(dialect, _timestamp(session, end), _timestamp(session, start)))
    )
    assert span == (end - start) / timedelta(microseconds=1) / MICROS_PER_DAY


def test_epoch_micros_is_exact(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    micros = session.scalar(select(epoch_micros(dialect, _timestamp(session, LATE))))
    assert micros == (LATE - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_the_day_after_the_last_microsecond_is_the_next_day(session: Session) -> None:
    days = Days(session.get_bind().dialect.name)
    start = session.scalar(select(days.next_start(_timestamp(session, LATE))))
    # SQLite's date('2026-03-31 23:59:59.999999', '+1 day') is 2026-04-02.
    assert str(start)[:10] == "2026-04-01"
    day = session.scalar(select(days.of(_timestamp(session, LATE))))
    assert str(day) == "2026-03-31"


def test_days_before_keeps_the_microseconds(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    shifted = days_before(dialect, _timestamp(session, LATE), 3)
    value = session.scalar(select(shifted))
    expected = LATE - timedelta(days=3)
    if isinstance(value, str):
        assert value == expected.replace(tzinfo=None).isoformat(" ", "microseconds")
    else:
        assert value == expected
    # The shifted value compares with stored timestamps as the instant it is.
    assert session.scalar(
        select(shifted < literal(expected + timedelta(microseconds=1), UTCDateTime()))
    )


@pytest.mark.parametrize("helper", [member_of, id_in])
def test_membership_in_a_long_list(session: Session, helper) -> None:
    ids = list(range(0, 5000, 3))
    number = literal(2997)
    assert session.scalar(select(helper(session.connection(), number, ids))) is True
    assert session.scalar(select(helper(session.connection(), literal(2998), ids))) is False


@pytest.mark.parametrize("helper", [member_of, id_in])
def test_membership_in_no_values_selects_nothing(session: Session, helper) -> None:
    # A static list created empty: PostgreSQL refused an untyped ARRAY[] (a 500 once).
    assert not session.scalar(select(helper(session.connection(), literal(1), [])))
