"""The refresh's aggregation equals a plain Python computation over the same events.

The SQL takes shortcuts for speed (figures at the cutoff as those at ``as_of`` minus
those after it, a seek for a repeat buyer's first day, the ``as_of`` bound left out when
no event is later); these tests hold it to the definitions on edge cases: same-day
orders, an order at the cutoff's midnight, a first day with several orders, negative and
missing amounts, orders only after the cutoff, and orders later on the day of ``as_of``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from tenure.scores.features import ORDER_COLUMNS, Moments, aggregate_events
from tenure.scores.sql import day_number, midnight_after

from .workspace import add_events, add_people, event

AS_OF = datetime(2025, 6, 30, 15, 0, tzinfo=UTC)
HORIZON = 60


def _expected(rows: list[tuple], moments: Moments) -> pd.DataFrame:
    """ORDER_COLUMNS per customer, straight from the definitions."""
    cut = midnight_after(moments.cutoff_day)
    by_person: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for person_id, at, _received, kind, *_rest, amount, _currency, _payload in rows:
        if kind == "order" and at <= moments.as_of:
            by_person[person_id].append((at, amount))
    out = {}
    for person_id, orders in by_person.items():
        days = sorted({day_number(at.date()) for at, _ in orders})
        before = [(at, a) for at, a in orders if at < cut]
        days_cut = sorted({day_number(at.date()) for at, _ in before})
        first_day_amounts = [a for at, a in orders if day_number(at.date()) == days[0]]
        out[person_id] = {
            "n_days": len(days),
            "first_day": days[0],
            "last_day": days[-1],
            "revenue": _sum([a for _, a in orders]),
            "n_days_cut": len(days_cut),
            "last_day_cut": days_cut[-1] if days_cut else math.nan,
            "revenue_cut": _sum([a for _, a in before]) if before else 0.0,
            "first_day_total": _sum(first_day_amounts) if len(days) > 1 else math.nan,
        }
    frame = pd.DataFrame.from_dict(out, orient="index")[list(ORDER_COLUMNS)]
    frame.index.name = "person_id"
    return frame.astype(float).sort_index()


def _sum(amounts: list[int | None]) -> float:
    present = [a for a in amounts if a is not None]
    return float(sum(present)) if present else math.nan


@pytest.mark.parametrize("later_events", [False, True], ids=["none-later", "some-later"])
def test_order_aggregates_equal_a_python_computation(session, later_events):
    # Given customers whose orders hit the edge cases of the definitions
    connection = session.connection()
    moments = Moments.build(AS_OF, horizon_days=HORIZON)
    cut = midnight_after(moments.cutoff_day)
    a, b, c, d, e, f = add_people(connection, 6)
    rows = [
        # a: two orders on the first day, two the same day later, one on the cut's midnight
        event(a, AS_OF - timedelta(days=200, hours=5), amount=1_000),
        event(a, AS_OF - timedelta(days=200, hours=2), amount=250),
        event(a, AS_OF - timedelta(days=120), amount=3_000),
        event(a, AS_OF - timedelta(days=120) + timedelta(minutes=1), amount=-400),
        event(a, cut, amount=700),
        event(a, cut - timedelta(microseconds=1), amount=50),
        # b: one order only (no repeat: no first-day total)
        event(b, AS_OF - timedelta(days=30), amount=900),
        # c: every order after the cutoff
        event(c, cut + timedelta(days=1), amount=100),
        event(c, cut + timedelta(days=5), amount=200),
        # d: an order with no amount, and one later on the day of as_of (ignored)
        event(d, AS_OF - timedelta(days=90), amount=None),
        event(d, AS_OF - timedelta(days=80), amount=1_200),
        event(d, AS_OF - timedelta(minutes=1), amount=300),
        # e: visits and refunds only: not a customer
        event(e, AS_OF - timedelta(days=10), "visit"),
        event(e, AS_OF - timedelta(days=9), "refund", amount=500),
        # f: orders before the cutoff only, the first day a negative total
        event(f, AS_OF - timedelta(days=400), amount=-100),
        event(f, AS_OF - timedelta(days=399), amount=800),
    ]
    if later_events:
        rows += [
            event(d, AS_OF + timedelta(hours=2), amount=99_999),  # same day, after as_of
            event(f, AS_OF + timedelta(days=3), amount=99_999),
            event(e, AS_OF + timedelta(days=1), "visit"),
        ]
    add_events(connection, rows)

    # When the refresh aggregates them
    aggregates = aggregate_events(connection, moments, churn_event_type=None)

    # Then every customer's figures are those of the definitions, and nobody else has any
    pd.testing.assert_frame_equal(
        aggregates.orders.sort_index(), _expected(rows, moments), check_names=False
    )
    assert e not in aggregates.orders.index
    first = aggregates.orders.loc[a]
    assert (first["n_days"], first["n_days_cut"], first["first_day_total"]) == (4, 3, 1_250)


@pytest.mark.parametrize("later_events", [False, True], ids=["none-later", "some-later"])
def test_other_aggregates_equal_a_python_computation(session, later_events):
    # Given customers with visits around both windows, refunds, a churn event type, and a
    # visitor who never ordered
    connection = session.connection()
    moments = Moments.build(AS_OF, horizon_days=HORIZON)
    cut = midnight_after(moments.cutoff_day)
    cut_window = midnight_after(moments.cutoff_day - 90)
    now_window = midnight_after(moments.as_of_day - 90)
    a, b, c, visitor = add_people(connection, 4)
    rows = [
        event(a, AS_OF - timedelta(days=300), amount=1_000),
        event(a, cut_window - timedelta(microseconds=1), "visit"),  # before both windows
        event(a, cut_window, "visit"),  # first instant of the cutoff's window
        event(a, cut - timedelta(microseconds=1), "visit"),
        event(a, cut, "visit"),  # after the cutoff: the window up to now only if inside
        event(a, now_window, "email_opened"),
        event(a, AS_OF - timedelta(days=500), "refund", amount=300),  # outside every window
        event(a, AS_OF - timedelta(days=2), "refund", amount=200),
        event(a, AS_OF - timedelta(days=3), "stage_changed"),  # derived: never counted
        event(b, AS_OF - timedelta(days=400), amount=500),
        event(b, cut - timedelta(days=10), "cancelled"),
        event(b, AS_OF - timedelta(days=1), "cancelled"),
        event(c, AS_OF - timedelta(days=20), amount=700),
        event(c, AS_OF - timedelta(days=600), "cancelled"),
        event(visitor, AS_OF - timedelta(days=5), "visit"),
    ]
    if later_events:
        rows += [
            event(a, AS_OF + timedelta(hours=1), "visit"),
            event(b, AS_OF + timedelta(days=1), "cancelled"),
            event(a, AS_OF + timedelta(days=1), "refund", amount=9_999),
        ]
    add_events(connection, rows)

    # When the refresh aggregates them with a churn event type
    others = aggregate_events(connection, moments, churn_event_type="cancelled").others

    # Then the window counts, refunds and churn events are those of the definitions
    def counted(person_id: int, kind: str, since: datetime, until: datetime) -> int:
        return sum(
            1
            for p, at, _r, k, *_ in rows
            if p == person_id and k == kind and since <= at < until and at <= AS_OF
        )

    def row(person_id: int, kind: str) -> pd.Series:
        (found,) = others[(others["person_id"] == person_id) & (others["type"] == kind)].index
        return others.loc[found]

    visits = row(a, "visit")
    assert visits["n_win_cut"] == counted(a, "visit", cut_window, cut) == 2
    assert visits["n_win_asof"] == counted(a, "visit", now_window, AS_OF) == 2
    assert row(a, "email_opened")["n_win_asof"] == 1
    assert row(a, "refund")["amount"] == 500
    assert not (others["type"] == "stage_changed").any()
    churn_b = row(b, "cancelled")
    assert (churn_b["n_upto_cut"], churn_b["n_after_cut"]) == (1, 1)
    assert churn_b["last_day"] == day_number((AS_OF - timedelta(days=1)).date())
    churn_c = row(c, "cancelled")
    assert (churn_c["n_upto_cut"], churn_c["n_after_cut"]) == (1, 0)
    assert row(visitor, "visit")["n_win_asof"] == 1
    assert not others.duplicated(["person_id", "type"]).any()
