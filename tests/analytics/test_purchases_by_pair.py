"""Predictions evaluated once per distinct (frequency, T) pair equal the per-customer
formulas: BG/NBD's conditional expectation (FHL 2005 eq. 10 in the Euler-transformed form
of Fader & Hardie 2013) and the discounted CLV, written here customer by customer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, hyp2f1

from tenure.analytics import BetaGeo, GammaGamma, ParetoNBD, clv
from tenure.analytics._purchases import by_distinct_pair, discounted_increments
from tenure.analytics.clv import DAYS_PER_MONTH

RTOL = 1e-10


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """Weeks as the refresh builds them (days / 7): many customers sharing (x, T) with
    different recencies, customers alone on their pair, zero-frequency customers (some on
    the same T as repeat buyers), exact duplicates and heavy buyers."""
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(300):  # shared pairs: few frequencies and ages, many recencies
        x = int(rng.integers(0, 6))
        age = int(rng.choice([30, 91, 364, 700]))
        recency = 0 if x == 0 else int(rng.integers(x, age + 1))
        rows.append((x, recency, age))
    for _ in range(150):  # mostly unique pairs
        age = int(rng.integers(1, 731))
        x = int(rng.integers(0, 60))
        recency = 0 if x == 0 else int(rng.integers(0, age + 1))
        rows.append((x, recency, age))
    rows += [(0, 0, 364)] * 5 + [(3, 200, 364)] * 4  # exact duplicates
    rows += [(2000, 700, 700), (2000, 100, 700), (5000, 729, 730), (800, 364, 364)]
    days = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    weeks = pd.DataFrame(
        {
            "frequency": days["frequency"].to_numpy(),
            "recency": days["recency"].to_numpy() / 7.0,
            "T": days["T"].to_numpy() / 7.0,
            "monetary": np.where(days["frequency"] > 0, 20.0 + 3.0 * (days.index % 17), 0.0),
        },
        index=pd.RangeIndex(100, 100 + len(days), name="person_id"),
    )
    weeks.attrs["unit"] = "W"
    assert weeks[["frequency", "T"]].duplicated().sum() > 250
    assert (~weeks[["frequency", "T"]].duplicated(keep=False)).sum() > 100
    return weeks


@pytest.fixture(scope="module")
def purchases(cdnow_summary: pd.DataFrame) -> BetaGeo:
    return BetaGeo().fit(cdnow_summary)


@pytest.fixture(scope="module")
def spend(cdnow_summary: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow_summary)


def _bgnbd_expectation(
    params: dict[str, float], t: float, x: float, tx: float, age: float
) -> float:
    """One customer's E[X(t) | x, t_x, T]: FHL 2005 eq. 10, with the hypergeometric factor
    ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r,
    a-1; a+b+x-1; z)`` (Fader & Hardie 2013) and P(alive) from FHL 2008 eq. 3."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    z = t / (alpha + age + t)
    term = (1.0 - z) ** (a - 1.0) * float(hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z))
    if x > 0:
        log_odds_dead = math.log(a / (b + x - 1.0)) + (r + x) * (
            math.log(alpha + age) - math.log(alpha + tx)
        )
        alive = float(expit(-log_odds_dead))
    else:
        alive = 1.0
    return (a + b + x - 1.0) / (a - 1.0) * (1.0 - term) * alive


def _per_customer(model: BetaGeo, t: float, summary: pd.DataFrame) -> np.ndarray:
    return np.array(
        [
            _bgnbd_expectation(model.params, t, x, tx, age)
            for x, tx, age in summary[["frequency", "recency", "T"]].itertuples(index=False)
        ]
    )


@pytest.mark.parametrize("days", [1.0, 90.0, 365.25])
def test_expected_purchases_per_pair_equal_the_per_customer_formula(
    purchases: BetaGeo, customers: pd.DataFrame, days: float
) -> None:
    got = purchases.expected_purchases(days / 7.0, customers)
    assert got.index.equals(customers.index)
    np.testing.assert_allclose(
        got.to_numpy(), _per_customer(purchases, days / 7.0, customers), rtol=RTOL
    )
    heavy = customers["frequency"] >= 800
    assert np.isfinite(got[heavy]).all() and (got[heavy] >= 0).all()


def test_expected_purchases_with_the_papers_parameters(customers: pd.DataFrame) -> None:
    model = BetaGeo()
    model.params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005
    got = model.expected_purchases(39.0, customers).to_numpy()
    np.testing.assert_allclose(got, _per_customer(model, 39.0, customers), rtol=RTOL)


def _clv_per_customer(
    model: BetaGeo | ParetoNBD,
    spend: GammaGamma,
    summary: pd.DataFrame,
    months: int,
    rate: float,
    margin: float,
    expectation: object,
) -> np.ndarray:
    """The CLV's definition, month by month: sum of each month's expected purchases,
    discounted, times the Gamma-Gamma expected spend (note 025 eq. 5) and the margin."""
    p, q, g = spend.params["p"], spend.params["q"], spend.params["gamma"]
    out = []
    for x, tx, age, m in summary[["frequency", "recency", "T", "monetary"]].itertuples(index=False):
        mean_spend = (g + (m if x > 0 else 0.0) * x) * p / (p * x + q - 1.0)
        total, previous = 0.0, 0.0
        for month in range(1, months + 1):
            cumulative = expectation(month * DAYS_PER_MONTH / 7.0, x, tx, age)  # type: ignore[operator]
            total += (cumulative - previous) / (1.0 + rate) ** (month / 12.0)
            previous = cumulative
        out.append(total * mean_spend * margin)
    return np.array(out)


@pytest.mark.parametrize(
    ("months", "rate", "margin"), [(12, 0.10, 1.0), (3, 0.0, 0.3), (24, 0.5, 0.6)]
)
def test_clv_per_pair_equals_the_month_by_month_definition(
    purchases: BetaGeo,
    spend: GammaGamma,
    customers: pd.DataFrame,
    months: int,
    rate: float,
    margin: float,
) -> None:
    got = clv(
        purchases, spend, customers, horizon_months=months, annual_discount_rate=rate, margin=margin
    )
    expected = _clv_per_customer(
        purchases,
        spend,
        customers,
        months,
        rate,
        margin,
        lambda t, x, tx, age: _bgnbd_expectation(purchases.params, t, x, tx, age),
    )
    assert got.index.equals(customers.index)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL)


def test_pareto_clv_equals_the_month_by_month_definition(
    cdnow_summary: pd.DataFrame, spend: GammaGamma, customers: pd.DataFrame
) -> None:
    model = ParetoNBD().fit(cdnow_summary)
    got = clv(model, spend, customers, horizon_months=12, annual_discount_rate=0.1, margin=0.5)

    def expectation(t: float, x: float, tx: float, age: float) -> float:
        one = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [age]})
        return float(model.expected_purchases(t, one).iloc[0])

    expected = _clv_per_customer(model, spend, customers, 12, 0.1, 0.5, expectation)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=RTOL)


def test_by_distinct_pair_evaluates_each_pair_once(customers: pd.DataFrame) -> None:
    x = customers["frequency"].to_numpy(dtype=float)
    age = customers["T"].to_numpy(dtype=float)
    seen: list[int] = []

    def function(xs: np.ndarray, ages: np.ndarray) -> np.ndarray:
        seen.append(xs.size)
        return xs * 1000.0 + ages

    got = by_distinct_pair(function, x, age)
    distinct = len(customers[["frequency", "T"]].drop_duplicates())
    assert seen == [distinct] and distinct < len(customers) / 2
    np.testing.assert_array_equal(got, x * 1000.0 + age)
    empty = np.array([], dtype=float)
    assert by_distinct_pair(function, empty, empty).size == 0


def test_discounted_increments_sums_discounted_periods() -> None:
    def curve(t: float) -> np.ndarray:
        return np.array([t, t**2])

    got = discounted_increments(curve, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(got, [1 + 1 / 2 + 1 / 4, 1 + 3 / 2 + 5 / 4], rtol=1e-15)
    with pytest.raises(ValueError, match="discount factor per time"):
        discounted_increments(curve, np.array([1.0, 2.0]), np.array([1.0]))


def test_negative_horizon_and_unfitted_model_are_refused(
    purchases: BetaGeo, customers: pd.DataFrame
) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        purchases.expected_purchases(-1.0, customers)
    with pytest.raises(ValueError, match="not fitted"):
        BetaGeo().discounted_expected_purchases([1.0], [1.0], customers)
