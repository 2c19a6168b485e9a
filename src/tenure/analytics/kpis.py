"""Customer KPIs, exactly as defined in PRODUCT.md ("KPI formulas", period P).

Every function validates its inputs and raises ``ValueError`` with the reason when a
count is negative, a denominator is zero or a survey answer is off its scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray


def _count(value: float, name: str) -> float:
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return number


def churn_rate(*, customers_at_start: float, customers_lost: float) -> float:
    """Churn rate = customers lost during P / customers at the start of P (a fraction).

    Raises
    ------
    ValueError
        If there were no customers at the start or more were lost than there were.
    """
    start = _count(customers_at_start, "customers_at_start")
    lost = _count(customers_lost, "customers_lost")
    if start == 0:
        raise ValueError("churn rate is undefined without customers at the start of the period")
    if lost > start:
        raise ValueError("customers_lost cannot exceed customers_at_start")
    return lost / start


def customer_retention_rate(
    *, customers_at_start: float, customers_at_end: float, new_customers: float
) -> float:
    """CRR = (customers at the end of P - new customers acquired in P) / customers at start.

    A fraction in [0, 1] for consistent counts.
    """
    start = _count(customers_at_start, "customers_at_start")
    end = _count(customers_at_end, "customers_at_end")
    new = _count(new_customers, "new_customers")
    if start == 0:
        raise ValueError("CRR is undefined without customers at the start of the period")
    if new > end:
        raise ValueError("new_customers cannot exceed customers_at_end")
    if end - new > start:
        raise ValueError("more retained customers (end - new) than customers at the start")
    return (end - new) / start


def _scores(scores: ArrayLike, low: int, high: int, name: str) -> NDArray[np.float64]:
    values = pd.to_numeric(pd.Series(np.asarray(scores).ravel()), errors="coerce")
    raw = pd.Series(np.asarray(scores, dtype=object).ravel())
    if (values.isna() & raw.notna()).any():
        raise ValueError(f"{name} answers must be numbers")
    answered = values.dropna().to_numpy(dtype=float)
    if answered.size == 0:
        raise ValueError(f"{name} needs at least one answer")
    bad = answered[(answered < low) | (answered > high) | (answered != np.round(answered))]
    if bad.size:
        raise ValueError(
            f"{name} answers must be whole numbers from {low} to {high}; got {bad[:5].tolist()}"
        )
    return answered


def nps(scores: ArrayLike) -> float:
    """Net Promoter Score from 0-10 answers: % promoters (9-10) - % detractors (0-6).

    Missing answers (NaN/None) are skipped. Returns a value from -100 to 100.
    """
    answered = _scores(scores, 0, 10, "NPS")
    return float(100.0 * (np.mean(answered >= 9) - np.mean(answered <= 6)))


def csat(scores: ArrayLike) -> float:
    """Customer satisfaction: % of 1-5 answers that are 4 or 5 (0 to 100)."""
    answered = _scores(scores, 1, 5, "CSAT")
    return float(100.0 * np.mean(answered >= 4))


def ces(scores: ArrayLike) -> float:
    """Customer effort score: mean of 1-7 answers."""
    return float(np.mean(_scores(scores, 1, 7, "CES")))


def cac(spend: float | pd.Series, new_customers: float | pd.Series) -> float | pd.Series:
    """Customer acquisition cost = acquisition spend in P / new customers acquired in P.

    Parameters
    ----------
    spend : float or pandas.Series
        Acquisition spend (currency units); a Series indexed by channel and/or campaign
        gives the CAC per group.
    new_customers : float or pandas.Series
        New customers acquired, aligned on the same index.

    Returns
    -------
    float or pandas.Series
        Per group, NaN where a group acquired nobody (CAC undefined). For scalars, a group
        without customers raises ``ValueError``.
    """
    if isinstance(spend, pd.Series) or isinstance(new_customers, pd.Series):
        index = spend.index if isinstance(spend, pd.Series) else new_customers.index  # type: ignore[union-attr]
        s = spend if isinstance(spend, pd.Series) else pd.Series(spend, index=index)
        n = (
            new_customers
            if isinstance(new_customers, pd.Series)
            else pd.Series(new_customers, index=index)
        )
        s, n = s.astype(float).align(n.astype(float), join="outer", fill_value=0.0)
        if (s < 0).any() or (n < 0).any() or s.isna().any() or n.isna().any():
            raise ValueError("spend and new_customers must be non-negative numbers")
        return (s / n.where(n > 0)).rename("cac")
    amount = _count(spend, "spend")
    count = _count(new_customers, "new_customers")
    if count == 0:
        raise ValueError("CAC is undefined when no customer was acquired")
    return amount / count


def cac_by(
    spend: pd.DataFrame,
    acquisitions: pd.DataFrame,
    *,
    by: str | list[str],
    amount: str = "amount",
    customer: str = "customer_id",
) -> pd.DataFrame:
    """CAC per channel and/or campaign from spend lines and acquired customers.

    Parameters
    ----------
    spend : pandas.DataFrame
        Spend lines with the ``by`` columns and an ``amount`` column.
    acquisitions : pandas.DataFrame
        One row per new customer acquired in P, with the ``by`` columns (attribution) and
        a ``customer`` column; each customer is counted once per group.
    by : str or list of str
        Grouping columns, e.g. ``"channel"`` or ``["channel", "campaign"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``spend``, ``new_customers``, ``cac`` per group (NaN CAC without customers).
    """
    keys = [by] if isinstance(by, str) else list(by)
    spent = spend.groupby(keys)[amount].sum().rename("spend")
    acquired = acquisitions.groupby(keys)[customer].nunique().rename("new_customers")
    table = pd.concat([spent, acquired], axis=1).fillna(0.0)
    table["new_customers"] = table["new_customers"].astype(int)
    table["cac"] = cac(table["spend"], table["new_customers"])
    return table


def roi(*, revenue: float, cost: float) -> float:
    """Return on investment = (attributed revenue - cost) / cost (a fraction; 0.5 = 50%)."""
    income = float(revenue)
    spent = _count(cost, "cost")
    if not np.isfinite(income):
        raise ValueError("revenue must be a finite number")
    if spent == 0:
        raise ValueError("ROI is undefined for zero cost")
    return (income - spent) / spent


def clv_to_cac(clv: ArrayLike | float, cac_value: float) -> float:
    """CLV:CAC = mean CLV of a cohort / its CAC.

    Parameters
    ----------
    clv : array-like or float
        CLV of each customer of the cohort (or their mean), currency units.
    cac_value : float
        The cohort's acquisition cost per customer, same currency.
    """
    values = np.asarray(clv, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("clv must hold at least one finite value")
    cost = _count(cac_value, "cac_value")
    if cost == 0:
        raise ValueError("CLV:CAC is undefined for a zero CAC")
    return float(values.mean() / cost)


def engagement_score(
    events: pd.DataFrame,
    *,
    customer: str = "customer_id",
    time: str = "timestamp",
    as_of: Any = None,
    half_life_days: float = 30.0,
    weight: str | None = None,
) -> pd.Series:
    """Recency-weighted count of engagement events per customer.

    ``score = sum_events w_e * 0.5 ** (age_e / half_life_days)``, ``age_e`` = days from
    the event to ``as_of``: an event at ``as_of`` counts ``w_e`` (1 by default), one a
    half-life earlier counts half. The score is a level, so comparing it with the
    customer's own past score shows an engagement drop (PRODUCT.md, early-warning signals).

    Parameters
    ----------
    events : pandas.DataFrame
        One row per engagement event (visit, open, click, reply, chat, order...).
    customer, time : str
        Column names of the customer id and the event time.
    as_of : date-like, optional
        Scoring time (default: the latest event). Later events are ignored. Must be
        timezone-aware exactly when the event times are.
    half_life_days : float, default 30
        Days after which an event counts half.
    weight : str, optional
        Column of per-event weights (e.g. 3 for a reply, 1 for an open).

    Returns
    -------
    pandas.Series
        Score per customer (customers with only future events are left out).
    """
    if half_life_days <= 0 or not np.isfinite(half_life_days):
        raise ValueError("half_life_days must be a positive number")
    for column in (customer, time) + ((weight,) if weight else ()):
        if column not in events.columns:
            raise ValueError(f"events have no column {column!r}")
    times = pd.to_datetime(events[time])
    if times.isna().any():
        raise ValueError("event times must not be missing")
    aware = isinstance(times.dtype, pd.DatetimeTZDtype)
    ref = times.max() if as_of is None else pd.Timestamp(as_of)
    if (ref.tzinfo is not None) != aware:
        raise ValueError("as_of and the event times must both be timezone-aware or both naive")
    age_days = ((ref - times) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    w = np.ones(len(events)) if weight is None else events[weight].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("event weights must be non-negative numbers")
    keep = age_days >= 0
    contribution = w[keep] * np.exp2(-age_days[keep] / half_life_days)
    scores = pd.Series(contribution).groupby(events[customer].to_numpy()[keep]).sum()
    return scores.rename("engagement_score").rename_axis(customer)


def historical_clv(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    amount: str = "amount",
    margin: float = 1.0,
    time: str | None = None,
    as_of: Any = None,
) -> pd.Series:
    """Historical CLV = sum of a customer's margin to date (PRODUCT.md).

    ``margin`` is the gross-margin share of revenue (1.0 = revenue). With ``time`` and
    ``as_of`` only purchases up to ``as_of`` (same tz-awareness as the data) count.
    """
    if not 0 <= margin <= 1:
        raise ValueError("margin must be a share between 0 and 1")
    rows = transactions
    if as_of is not None:
        if time is None:
            raise ValueError("as_of needs the time column")
        times = pd.to_datetime(transactions[time])
        stamp = pd.Timestamp(as_of)
        if (stamp.tzinfo is not None) != isinstance(times.dtype, pd.DatetimeTZDtype):
            raise ValueError("as_of and the times must both be timezone-aware or both naive")
        rows = transactions[(times <= stamp).to_numpy()]
    values = pd.to_numeric(rows[amount])
    return (values.groupby(rows[customer]).sum() * margin).rename("historical_clv")
