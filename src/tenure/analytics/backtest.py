"""Holdout validation of purchase models, as in Fader, Hardie & Lee (2005), Figures 2-4:
fit on a calibration period, predict the holdout period, compare in total, by calibration
frequency and as cumulative repeat purchases over time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from tenure.analytics.rfm import (
    day_number,
    merge_same_day,
    rfm_summary,
    to_day_numbers,
    unit_days,
)


class FittableModel(Protocol):
    """BetaGeo or ParetoNBD."""

    def fit(self, summary: pd.DataFrame) -> Any: ...

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series: ...

    def population_expected_purchases(self, t: ArrayLike) -> NDArray[np.float64]: ...


@dataclass(frozen=True)
class BacktestResult:
    """Predicted versus actual holdout purchases.

    Attributes
    ----------
    summary : pandas.DataFrame
        Calibration summary with ``frequency_holdout`` and ``predicted_holdout``.
    totals : pandas.Series
        ``actual`` and ``predicted`` holdout purchases, ``error_pct`` (predicted vs
        actual, %), ``mae`` and ``rmse`` per customer, ``correlation``.
    by_frequency : pandas.DataFrame
        Per calibration-frequency bucket ``0 .. max_bucket-1`` and ``"max_bucket+"``:
        ``customers``, ``actual`` and ``predicted`` mean holdout purchases (FHL 2005
        Figure 3).
    cumulative : pandas.DataFrame or None
        Per time unit since the first purchase in the data: ``date`` (last calendar day
        of the unit, naive),
        cumulative repeat purchases ``actual`` and ``predicted`` (FHL 2005 Figure 2), and
        ``period`` ("calibration" / "holdout"). Only when transactions were given.
    """

    summary: pd.DataFrame
    totals: pd.Series
    by_frequency: pd.DataFrame
    cumulative: pd.DataFrame | None


def backtest(
    model: FittableModel,
    data: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "date",
    calibration_end: Any = None,
    observation_end: Any = None,
    unit: str = "W",
    max_bucket: int = 7,
) -> BacktestResult:
    """Fit ``model`` on a calibration period and score its holdout predictions.

    Parameters
    ----------
    model : BetaGeo or ParetoNBD
        Unfitted or fitted; it is (re)fitted on the calibration summary.
    data : pandas.DataFrame
        Either transactions (one row per purchase; then ``calibration_end`` is required
        and the cumulative curve is computed) or a calibration summary from
        :func:`rfm_summary` with ``frequency_holdout`` and ``duration_holdout``.
    customer, time : str
        Transaction columns (ignored for a summary).
    calibration_end, observation_end : date-like
        Last calibration day and last observed day (inclusive; default last purchase).
    unit : str, default "W"
        Time unit for the summary and the cumulative curve.
    max_bucket : int, default 7
        Calibration frequencies from ``max_bucket`` up are pooled ("7+").

    Returns
    -------
    BacktestResult
    """
    is_summary = {"frequency_holdout", "duration_holdout"} <= set(data.columns)
    if is_summary:
        summary = data.copy()
    else:
        if calibration_end is None:
            raise ValueError("calibration_end is required when backtesting on transactions")
        summary = rfm_summary(
            data,
            customer=customer,
            time=time,
            amount=None,
            observation_end=observation_end,
            calibration_end=calibration_end,
            unit=unit,
        )
    model.fit(summary)
    predicted = pd.Series(np.nan, index=summary.index)
    durations = summary["duration_holdout"].to_numpy(dtype=float)
    for duration in np.unique(durations):
        rows = durations == duration
        part = summary.loc[rows]
        predicted.loc[rows] = model.expected_purchases(float(duration), part).to_numpy()
    summary["predicted_holdout"] = predicted
    actual = summary["frequency_holdout"].to_numpy(dtype=float)
    pred = predicted.to_numpy()
    errors = pred - actual
    totals = pd.Series(
        {
            "actual": actual.sum(),
            "predicted": pred.sum(),
            "error_pct": 100.0 * (pred.sum() - actual.sum()) / max(actual.sum(), 1e-12),
            "mae": float(np.mean(np.abs(errors))),
            "rmse": float(np.sqrt(np.mean(errors**2))),
            "correlation": float(np.corrcoef(pred, actual)[0, 1]) if len(actual) > 1 else np.nan,
        }
    )
    bucket = np.minimum(summary["frequency"].to_numpy(dtype=int), max_bucket)
    labels = [str(k) for k in range(max_bucket)] + [f"{max_bucket}+"]
    by_frequency = (
        pd.DataFrame({"bucket": bucket, "actual": actual, "predicted": pred})
        .groupby("bucket")
        .agg(
            customers=("actual", "size"),
            actual=("actual", "mean"),
            predicted=("predicted", "mean"),
        )
        .reindex(range(max_bucket + 1))
    )
    by_frequency.index = pd.Index(labels, name="frequency")
    by_frequency["customers"] = by_frequency["customers"].fillna(0).astype(int)
    cumulative = None
    if not is_summary:
        cumulative = _cumulative(
            model, data, summary, customer, time, calibration_end, observation_end, unit
        )
    return BacktestResult(summary, totals, by_frequency, cumulative)


def _cumulative(
    model: FittableModel,
    transactions: pd.DataFrame,
    summary: pd.DataFrame,
    customer: str,
    time: str,
    calibration_end: Any,
    observation_end: Any,
    unit: str,
) -> pd.DataFrame:
    """Cumulative repeat purchases per time unit, actual and expected (FHL 2005 Fig. 2).

    The expectation sums, over customers, ``E[X(t - b_i)]`` (the model's expected repeat
    purchases of a new customer, eq. 7 for BG/NBD) with ``b_i`` the customer's first
    purchase time; customers are grouped by first-purchase day so the cost does not grow
    with their number.
    """
    scale = unit_days(unit)
    days = to_day_numbers(transactions[time])
    end_day = int(days.max())
    if observation_end is not None:
        end_day = day_number(observation_end, transactions[time])
    cal_day = day_number(calibration_end, transactions[time])
    inside = days <= end_day
    _, code, day, _ = merge_same_day(transactions[customer][inside], days[inside], None)
    starts = np.r_[True, code[1:] != code[:-1]]
    first_row = np.maximum.accumulate(np.where(starts, np.arange(day.size), 0))
    first_day = day[first_row]
    # Keep only customers of the calibration summary (first purchase in calibration).
    in_summary = first_day <= cal_day
    repeat_days = day[~starts & in_summary]
    births = day[starts & in_summary]
    origin = int(births.min())
    n_units = int(np.ceil((end_day + 1 - origin) / scale))
    edges = origin + scale * np.arange(1, n_units + 1)  # end of each unit, as day numbers
    actual = np.searchsorted(np.sort(repeat_days), edges, side="left")
    birth_days, birth_counts = np.unique(births, return_counts=True)
    ages = np.clip((edges[:, None] - birth_days[None, :]) / scale, 0.0, None)
    expected = model.population_expected_purchases(ages.ravel()).reshape(ages.shape)
    predicted = (np.where(ages > 0, expected, 0.0) * birth_counts[None, :]).sum(axis=1)
    dates = pd.to_datetime(np.floor(edges).astype(np.int64) - 1, unit="D")
    return pd.DataFrame(
        {
            "date": dates,
            "actual": actual.astype(np.int64),
            "predicted": predicted,
            "period": np.where(edges - 1 <= cal_day, "calibration", "holdout"),
        },
        index=pd.RangeIndex(1, n_units + 1, name=unit),
    )
