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
from sqlalchemy import Connection, func, select

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


def _cumulative(
    connection: Connection, aggregates: Aggregates, summary: pd.DataFrame, model: BetaGeo
) -> dict[str, Any]:
    """Weekly cumulative repeat purchases, actual (SQL) and expected (FHL 2005 eq. 7)."""
    ids = summary.index.to_numpy()
    if len(ids) > CUMULATIVE_CUSTOMERS:
        # A seeded random block of consecutive ids: a range seek on the index.
        start = np.random.default_rng(len(ids)).integers(0, len(ids) - CUMULATIVE_CUSTOMERS)
        ids = np.sort(ids)[start : start + CUMULATIVE_CUSTOMERS]
    low, high = int(ids.min()), int(ids.max())
    in_block = summary.index[(summary.index >= low) & (summary.index <= high)]
    first = aggregates.orders.loc[in_block, "first_day"].astype(np.int64)
    days = Days(connection.dialect.name)
    day = days.of(Event.occurred_at)
    person_days = (
        select(Event.person_id, day.label("day"))
        .where(
            Event.person_id.between(low, high),
            Event.type == ORDER,
            Event.occurred_at <= aggregates.moments.as_of,
        )
        .group_by(Event.person_id, day)
        .subquery()
    )
    with_first = select(
        person_days.c.day,
        func.min(person_days.c.day).over(partition_by=person_days.c.person_id).label("first"),
    ).subquery()
    cut = days.value(from_day_number(aggregates.moments.cutoff_day))
    repeats = connection.execute(
        select(days.number(with_first.c.day), func.count())
        .where(with_first.c.day > with_first.c.first, with_first.c.first <= cut)
        .group_by(with_first.c.day)
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
    expected = model.population_expected_purchases(ages.ravel()).reshape(ages.shape)
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
