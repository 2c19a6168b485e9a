"""First-purchase cohort retention (PRODUCT.md: "share of a first-purchase cohort that
purchased again in month k")."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tenure.analytics.rfm import _naive, day_number


class CohortRetention(NamedTuple):
    """Result of :func:`cohort_retention`.

    Attributes
    ----------
    rates : pandas.DataFrame
        Index: cohort (``pandas.Period`` of the first purchase); columns ``k = 1, 2, ...``
        periods after the cohort's period; values: share of the cohort's customers with
        at least one purchase in period ``cohort + k``. NaN where that period is after
        the end of the data (not observed yet).
    sizes : pandas.Series
        Customers in each cohort.
    """

    rates: pd.DataFrame
    sizes: pd.Series


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "date",
    freq: str = "M",
    observation_end: Any = None,
) -> CohortRetention:
    """Share of each first-purchase cohort that purchased again ``k`` periods later.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase.
    customer, time : str
        Column names of the customer id and purchase time (tz-aware times are read in
        their own zone's calendar).
    freq : str, default "M"
        Cohort and period length as a pandas period alias ("M" months, "W" weeks, "Q",
        "Y").
    observation_end : date-like, optional
        Last observed day (default: the last purchase). Purchases after it are ignored
        and periods after its period are reported as NaN (the period holding it counts
        as observed, even when it is only partly covered).

    Returns
    -------
    CohortRetention
        ``rates`` (cohort x k) and ``sizes``.
    """
    for column in (customer, time):
        if column not in transactions.columns:
            raise ValueError(f"transactions have no column {column!r}")
    if transactions.empty:
        raise ValueError("transactions are empty")
    times = _naive(transactions[time])
    if times.isna().any():
        raise ValueError("transaction times must not be missing")
    if transactions[customer].isna().any():
        raise ValueError("customer ids must not be missing")
    keep = np.ones(len(times), dtype=bool)
    if observation_end is not None:
        end_day = day_number(observation_end, transactions[time])
        keep = (times.to_numpy().astype("datetime64[D]").astype(np.int64)) <= end_day
        end_period = pd.Timestamp(np.datetime64(end_day, "D")).to_period(freq)
    else:
        end_period = times.max().to_period(freq)
    periods = times[keep].dt.to_period(freq)
    ordinals = pd.Series(periods.array.asi8, index=periods.index)
    frame = pd.DataFrame(
        {"customer": transactions[customer][keep].to_numpy(), "period": ordinals.to_numpy()}
    ).drop_duplicates()
    first = frame.groupby("customer")["period"].transform("min")
    frame["cohort"] = first.to_numpy()
    frame["k"] = frame["period"] - frame["cohort"]
    sizes = frame.loc[frame["k"] == 0].groupby("cohort").size()
    counts = frame.loc[frame["k"] > 0].groupby(["cohort", "k"]).size().unstack(fill_value=0)
    last = int(end_period.ordinal)
    max_k = max(last - int(sizes.index.min()), 0)
    ks = np.arange(1, max_k + 1)
    counts = counts.reindex(index=sizes.index, columns=ks, fill_value=0)
    rates = counts.div(sizes, axis=0).astype(float)
    observable = (sizes.index.to_numpy()[:, None] + ks[None, :]) <= last
    rates = rates.where(observable)
    cohort_index = pd.PeriodIndex(
        [pd.Period(ordinal=int(o), freq=end_period.freqstr) for o in sizes.index], name="cohort"
    )
    rates.index = cohort_index
    rates.columns = pd.Index(ks, name="k")
    sizes.index = cohort_index
    return CohortRetention(rates=rates, sizes=sizes.rename("customers"))
