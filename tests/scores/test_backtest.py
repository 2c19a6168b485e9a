"""The backtest's cumulative curve of actual repeat purchases equals a Python count over the
same events: per week, the purchase days after each customer's first of the customers who
bought by the cutoff, in the block of ids the curve covers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tenure.scores import backtest
from tenure.scores.features import Moments, aggregate_events

from .workspace import add_events, add_people, event

AS_OF = datetime(2025, 6, 30, 15, 0, tzinfo=UTC)
HORIZON = 60
CUTOFF = (AS_OF - timedelta(days=HORIZON)).date()


def _rows(people: list[int]) -> list[tuple]:
    """Buyers from the calibration period with same-day orders, visits and orders after
    ``as_of``; every fifth person buys only after the cutoff (not a calibration customer,
    yet inside any block of ids); the last one first buys at the cutoff's last second."""
    rng = np.random.default_rng(3)
    rows = []
    for i, person in enumerate(people[:-1]):
        if i % 5 == 0:
            first = AS_OF - timedelta(days=int(rng.integers(5, HORIZON - 1)), hours=3)
            rows += [
                event(person, first, amount=900),
                event(person, first + timedelta(days=2), amount=100),
            ]
            continue
        at = AS_OF - timedelta(
            days=int(rng.integers(HORIZON + 1, 500)), hours=int(rng.integers(0, 12))
        )
        while at <= AS_OF + timedelta(days=3):
            rows.append(event(person, at, amount=int(rng.integers(100, 5000))))
            if rng.random() < 0.3:  # a second order the same day: one purchase day
                rows.append(event(person, at + timedelta(minutes=20), amount=300))
            if rng.random() < 0.4:
                rows.append(event(person, at + timedelta(days=1), "visit"))
            at += timedelta(days=int(rng.integers(1, 60)), hours=int(rng.integers(0, 5)))
    last_second = datetime.combine(CUTOFF, datetime.max.time(), tzinfo=UTC).replace(microsecond=0)
    rows += [
        event(people[-1], last_second, amount=400),
        event(people[-1], last_second + timedelta(seconds=2), amount=400),  # the next day
    ]
    return rows


def _expected_actual(rows: list[tuple], low: int, high: int, weeks: list[str]) -> list[int]:
    days: dict[int, set[date]] = {}
    for person_id, at, _received, kind, *_rest in rows:
        if kind == "order" and at <= AS_OF and low <= person_id <= high:
            days.setdefault(person_id, set()).add(at.astimezone(UTC).date())
    repeat_days = [
        day
        for person_days in days.values()
        if min(person_days) <= CUTOFF
        for day in person_days
        if day > min(person_days)
    ]
    return [sum(day <= date.fromisoformat(week) for day in repeat_days) for week in weeks]


@pytest.mark.parametrize("bound", [None, 20], ids=["every-customer", "a-block"])
def test_cumulative_repeat_purchases_equal_a_python_count(session, monkeypatch, bound):
    # Given 91 people, a fifth of whom first bought after the cutoff
    connection = session.connection()
    people = add_people(connection, 91)
    rows = _rows(people)
    add_events(connection, rows)
    if bound is not None:
        monkeypatch.setattr(backtest, "CUMULATIVE_CUSTOMERS", bound)
    moments = Moments.build(AS_OF, horizon_days=HORIZON)
    aggregates = aggregate_events(connection, moments, churn_event_type=None)

    # When the purchase model is backtested
    report = backtest.run_backtest(connection, aggregates)

    # Then the actual curve counts, week by week, the block's repeat purchase days
    low, high = backtest.cumulative_block(backtest.calibration_summary(aggregates).index)
    curve = report["cumulative"]
    assert curve["actual"] == _expected_actual(rows, low, high, curve["weeks"])
    calibration = [p for i, p in enumerate(people) if (i % 5 or i == 90) and low <= p <= high]
    assert curve["customers"] == len(calibration)
    assert curve["actual"][-1] > 100
    if bound is not None:
        # the block holds `bound` calibration customers and people who bought later
        assert len(calibration) == bound
        assert any(i % 5 == 0 and low < p < high for i, p in enumerate(people))
    else:
        assert (low, high) == (people[1], people[-1])
