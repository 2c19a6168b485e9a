"""Holdout accuracy of the purchase model, from the same aggregates as the scores.

The calibration period ends at the churn cutoff and the holdout is the churn horizon
after it. :func:`tenure.analytics.backtest` refits BG/NBD on the calibration summary and
compares predicted with actual holdout purchases in total and by calibration frequency
(Fader, Hardie & Lee 2005, Figure 3). The cumulative curve over time (their Figure 2)
needs each repeat purchase's week, which per-customer aggregates do not hold, so it is
computed by SQL on a block of consecutive customer ids (all customers when there are at
most :data:`CUMULATIVE_CUSTOMERS`): an index range seek instead of another full scan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select, union_all

from tenure.analytics import BetaGeo, backtest
from tenure.db.dialect import Days
from tenure.scores.features import ORDER, Aggregates, rfm_as_of, sample_rows
from tenure.scores.sql import from_day_number
from tenure.timeline.models import Event

DAYS_PER_WEEK = 7.0
CUMULATIVE_CUSTOMERS = 25_000


def calibration_summary(aggregates: Aggregates) -> pd.DataFrame:
    """Calibration summary in weeks with ``frequency_holdout`` and ``duration_holdout``."""
    moments = aggregates.moments
    summary = rfm_as_of(aggregates.orders, "cut", moments.cutoff_day)
    orders = aggregates.orders.loc[summary.index]
    weeks = pd.DataFrame(
        {
            "frequency": summary["frequency"],
            "recency": summary["recency"] / DAYS_PER_WEEK,
            "T": summary["T"] / DAYS_PER_WEEK,
            "frequency_holdout": (orders["n_days"] - orders["n_days_cut"]).astype(np.int64),
            "duration_holdout": moments.horizon_days / DAYS_PER_WEEK,
        },
        index=summary.index,
    )
    weeks.attrs["unit"] = "W"
    return weeks


def run_backtest(connection: Connection, aggregates: Aggregates) -> dict[str, Any]:
    """Backtest report: totals, by calibration frequency, cumulative weekly curve."""
    summary = calibration_summary(aggregates)
    if len(summary) < 10 or int((summary["frequency"] > 0).sum()) == 0:
        return {"skipped": f"{len(summary)} customers before the cutoff, too few to backtest"}
    model = BetaGeo()
    sample = sample_rows(summary)
    result = backtest(model, sample)
    by_frequency = [
        {"frequency": str(label), **{k: _num(v) for k, v in row.items()}}
        for label, row in result.by_frequency.iterrows()
    ]
    report: dict[str, Any] = {
        "calibration_end": from_day_number(aggregates.moments.cutoff_day).isoformat(),
        "holdout_days": aggregates.moments.horizon_days,
        "customers": len(sample),
        "calibration_params": {k: float(v) for k, v in model.params.items()},
        "totals": {k: _num(v) for k, v in result.totals.items()},
        "by_frequency": by_frequency,
    }
    report["cumulative"] = _cumulative(connection, aggregates, summary, model)
    return report


def cumulative_block(ids: pd.Index) -> tuple[int, int]:
    """Lowest and highest person id of the customers the cumulative curve counts: all of
    them up to :data:`CUMULATIVE_CUSTOMERS`, else a seeded random block of that many
    consecutive ids (a range seek on the index)."""
    values = ids.to_numpy()
    if len(values) > CUMULATIVE_CUSTOMERS:
        start = np.random.default_rng(len(values)).integers(0, len(values) - CUMULATIVE_CUSTOMERS)
        values = np.sort(values)[start : start + CUMULATIVE_CUSTOMERS]
    return int(values.min()), int(values.max())


def _cumulative(
    connection: Connection, aggregates: Aggregates, summary: pd.DataFrame, model: BetaGeo
) -> dict[str, Any]:
    """Weekly cumulative repeat purchases, actual (SQL) and expected (FHL 2005 eq. 7)."""
    low, high = cumulative_block(summary.index)
    in_block = summary.index[(summary.index >= low) & (summary.index <= high)]
    first = aggregates.orders.loc[in_block, "first_day"].astype(np.int64)
    days = Days(connection.dialect.name)
    as_of = aggregates.moments.as_of
    cut = days.value(from_day_number(aggregates.moments.cutoff_day))
    # The block's customers of the calibration period (a purchase by the cutoff) and their
    # first purchase: one pass in the covering index's order, nothing sorted.
    customers = (
        select(Event.person_id, func.min(Event.occurred_at).label("first_at"))
        .where(
            Event.person_id.between(low, high),
            Event.type == ORDER,
            days.of(Event.occurred_at) <= cut,
        )
        .group_by(Event.person_id)
        .cte("customers")
    )
    # Their repeat purchase days, counted per day as the customers who bought that day
    # minus those whose first purchase it was: a person's purchase days but the first.
    # (Pairing each purchase day with the person's first by a window function sorted
    # the block's purchases three times: the curve took 1.3-1.8x as long on SQLite.)
    bought = (
        select(Event.person_id, days.number(Event.occurred_at.expression).label("day"))
        .join_from(customers, Event, Event.person_id == customers.c.person_id)
        # The range again: PostgreSQL otherwise hash-joins the whole events table.
        .where(Event.person_id.between(low, high), Event.type == ORDER, Event.occurred_at <= as_of)
        .subquery()
    )
    firsts = select(days.number(customers.c.first_at).label("day")).subquery()
    repeats = connection.execute(
        union_all(
            select(bought.c.day, func.count(bought.c.person_id.distinct())).group_by(bought.c.day),
            select(firsts.c.day, -func.count()).group_by(firsts.c.day),
        )
    ).all()
    decoded = days.decode(pd.Series([r[0] for r in repeats], dtype=object))
    repeat_day = decoded.to_numpy().astype(np.int64)
    repeat_count = np.array([r[1] for r in repeats], dtype=np.int64)
    origin = int(first.min())
    end = aggregates.moments.as_of_day
    n_weeks = int(np.ceil((end + 1 - origin) / DAYS_PER_WEEK))
    edges = origin + DAYS_PER_WEEK * np.arange(1, n_weeks + 1)
    order = np.argsort(repeat_day)
    running = np.concatenate(([0], np.cumsum(repeat_count[order])))
    actual = running[np.searchsorted(repeat_day[order], edges, side="left")]
    births, counts = np.unique(first.to_numpy(), return_counts=True)
    ages = np.clip((edges[:, None] - births[None, :]) / DAYS_PER_WEEK, 0.0, None)
    # Weeks x birth days, but ages repeat along the diagonals: ~1 distinct value in 50.
    distinct_ages, at = np.unique(ages, return_inverse=True)
    expected = model.population_expected_purchases(distinct_ages)[at].reshape(ages.shape)
    predicted = (np.where(ages > 0, expected, 0.0) * counts[None, :]).sum(axis=1)
    return {
        "customers": len(in_block),
        "weeks": [from_day_number(int(e) - 1).isoformat() for e in edges],
        "actual": actual.astype(int).tolist(),
        "predicted": np.round(predicted, 2).tolist(),
        "calibration_weeks": int(np.sum(edges - 1 <= aggregates.moments.cutoff_day)),
    }


def _num(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
