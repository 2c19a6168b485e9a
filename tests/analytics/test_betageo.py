"""BG/NBD against Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import BetaGeo

# FHL 2005, Table/section 4: CDNOW 1/10 sample, 39-week calibration, weeks.
PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> BetaGeo:
    return BetaGeo().fit(cdnow_summary)


def test_fit_reproduces_the_paper(fitted: BetaGeo) -> None:
    got = [fitted.params[k] for k in PAPER]
    np.testing.assert_allclose(got, list(PAPER.values()), rtol=5e-3)
    np.testing.assert_allclose(fitted.log_likelihood, PAPER_LL, rtol=5e-5)
    assert fitted.converged


def test_standard_errors_are_positive_and_smaller_than_estimates(fitted: BetaGeo) -> None:
    se = np.array([fitted.standard_errors[k] for k in PAPER])
    est = np.array([fitted.params[k] for k in PAPER])
    assert np.all(se > 0)
    assert np.all(se < est)
    assert list(fitted.summary_table().index) == list(PAPER)


def test_conditional_expectation_matches_hardie_excel_example() -> None:
    # Fader, Hardie & Lee (2005) "Implementing the BG/NBD Model for Customer Base Analysis
    # in Excel": x=2, t_x=30.43, T=38.86 -> 1.226 purchases in the next 39 weeks (also
    # lifetimes' test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet).
    model = BetaGeo()
    model.params = dict(PAPER)
    customer = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    np.testing.assert_allclose(model.expected_purchases(39, customer).iloc[0], 1.226, rtol=1e-3)


def test_unconditional_expectation_matches_hardie_excel_sheet() -> None:
    # Hardie's BG/NBD Excel sheet, E[X(t)] (FHL 2005 eq. 7), as in lifetimes'
    # test_expectation_returns_same_value_Hardie_excel_sheet; published to 4 decimals.
    model = BetaGeo()
    model.params = dict(PAPER)
    times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(model.population_expected_purchases(times), expected, rtol=5e-3)


def test_p_alive_properties(fitted: BetaGeo) -> None:
    grid = pd.DataFrame(
        [(x, tx, t) for x in range(0, 20, 3) for t in (10, 20, 39) for tx in (0, 5, t) if x > 0]
        + [(0, 0, t) for t in (1, 10, 39)],
        columns=["frequency", "recency", "T"],
    )
    p = fitted.p_alive(grid)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p[grid["frequency"] == 0], 1.0, rtol=0)
    # decreasing in T for fixed (x, t_x)
    ages = pd.DataFrame({"frequency": 3, "recency": 5.0, "T": [6.0, 10.0, 20.0, 40.0]})
    assert np.all(np.diff(fitted.p_alive(ages).to_numpy()) < 0)


def test_extreme_frequency_stays_finite(fitted: BetaGeo) -> None:
    # A customer with 2,000 repeat purchases overflows the textbook 2F1 form (#NUM! in
    # Fader & Hardie 2013, note 027); the Euler-transformed form must stay finite.
    heavy = pd.DataFrame({"frequency": [2000, 2000], "recency": [39.0, 10.0], "T": [39.0, 39.0]})
    ll = fitted.individual_log_likelihood(heavy)
    expected = fitted.expected_purchases(39, heavy)
    alive = fitted.p_alive(heavy)
    assert np.isfinite(ll).all() and np.isfinite(expected).all() and np.isfinite(alive).all()
    # Bought in the last week: alive; about 2000 purchases in 39 weeks -> ~2000 more.
    assert 1000 < expected.iloc[0] < 2600
    assert alive.iloc[1] < 1e-10


def test_fit_with_a_heavy_buyer_and_weighted_millions(cdnow_summary: pd.DataFrame) -> None:
    # given the CDNOW sample plus one customer with 2,000 repeat purchases, weighted to
    # stand for 2.5 million customers
    heavy = pd.concat(
        [
            cdnow_summary[["frequency", "recency", "T"]],
            pd.DataFrame({"frequency": [2000], "recency": [38.5], "T": [38.86]}, index=[-1]),
        ]
    )
    weights = np.full(len(heavy), 2_500_000 / len(heavy))
    single = BetaGeo().fit(heavy)
    weighted = BetaGeo().fit(heavy, weights=weights)
    assert np.isfinite(weighted.log_likelihood)
    np.testing.assert_allclose(
        list(weighted.params.values()), list(single.params.values()), rtol=1e-4
    )
    np.testing.assert_allclose(
        weighted.log_likelihood, 2_500_000 / len(heavy) * single.log_likelihood, rtol=1e-9
    )


def test_analytic_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    from tenure.analytics.betageo import _neg_grad, _neg_ll

    x, tx, t = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    w = np.ones_like(x)
    theta = np.log([0.3, 5.0, 0.9, 2.0])
    numeric = np.array(
        [
            (_neg_ll(theta + h, x, tx, t, w) - _neg_ll(theta - h, x, tx, t, w)) / 2e-6
            for h in np.eye(4) * 1e-6
        ]
    )
    np.testing.assert_allclose(_neg_grad(theta, x, tx, t, w), numeric, rtol=1e-5)


def test_unfitted_model_and_bad_input_are_refused() -> None:
    customer = pd.DataFrame({"frequency": [1], "recency": [2.0], "T": [1.0]})
    with pytest.raises(ValueError, match="not fitted"):
        BetaGeo().p_alive(customer.assign(T=3.0))
    with pytest.raises(ValueError, match="recency"):
        BetaGeo().fit(customer)


def test_fit_on_unique_rows_with_counts_equals_the_fit_on_every_customer(
    cdnow_summary: pd.DataFrame,
) -> None:
    # given every CDNOW customer repeated 1 to 4 times, and the unique rows with counts
    rng = np.random.default_rng(7)
    copies = rng.integers(1, 5, len(cdnow_summary))
    every = cdnow_summary.loc[cdnow_summary.index.repeat(copies), ["frequency", "recency", "T"]]
    unique = every.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    assert len(unique) < len(cdnow_summary) < len(every)
    whole = BetaGeo().fit(every)
    weighted = BetaGeo().fit(unique, weights="n")
    np.testing.assert_allclose(
        list(weighted.params.values()), list(whole.params.values()), rtol=1e-7
    )
    np.testing.assert_allclose(weighted.log_likelihood, whole.log_likelihood, rtol=1e-10)
    np.testing.assert_allclose(
        list(weighted.standard_errors.values()), list(whole.standard_errors.values()), rtol=1e-5
    )
    # and the per-customer predictions do not depend on how the fit saw them
    np.testing.assert_allclose(
        weighted.p_alive(every).to_numpy(), whole.p_alive(every).to_numpy(), rtol=1e-7
    )
