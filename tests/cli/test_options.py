"""The shared --as-of option reads dates one way for every command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import typer

from tenure.cli.options import parse_as_of


def test_a_bare_date_is_the_end_of_that_day_in_utc():
    assert parse_as_of("2026-06-30") == datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)


def test_a_time_keeps_its_offset_or_is_utc():
    assert parse_as_of("2026-06-30T12:00") == datetime(2026, 6, 30, 12, tzinfo=UTC)
    paris = parse_as_of("2026-06-30T12:00+02:00")
    assert paris == datetime(2026, 6, 30, 12, tzinfo=timezone(timedelta(hours=2)))


def test_no_date_is_none_and_a_bad_one_names_the_format():
    assert parse_as_of(None) is None
    with pytest.raises(typer.BadParameter, match="ISO date"):
        parse_as_of("someday")
