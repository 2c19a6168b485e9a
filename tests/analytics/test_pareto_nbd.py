"""Pareto/NBD against Fader, Hardie & Lee (2005) and the Fader-Hardie derivation note."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1

from tenure.analytics import ParetoNBD
from tenure.analytics.pareto_nbd import log_hyp2f1_euler

# FHL 2005 ("Counting your customers the easy way"), Pareto/NBD on the CDNOW sample.
PAPER = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PAPER_LL = -9595.0


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(cdnow_summary)


def test_fit_reproduces_the_paper(fitted: ParetoNBD) -> None:
    got = [fitted.params[k] for k in PAPER]
    np.testing.assert_allclose(got, list(PAPER.values()), rtol=5e-3)
    np.testing.assert_allclose(fitted.log_likelihood, PAPER_LL, rtol=5e-5)
    assert all(v > 0 for v in fitted.standard_errors.values())


def _direct_log_likelihood(
    r: float, alpha: float, s: float, beta: float, x: float, tx: float, t: float
) -> float:
    # Fader & Hardie (2005) note 009, eq. 11 before integration: the dropout integral
    # s * int_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du, by adaptive quadrature.
    integral = quad(
        lambda u: (alpha + u) ** (-(r + x)) * (beta + u) ** (-(s + 1)),
        tx,
        t,
        epsabs=0,
        epsrel=1e-12,
    )[0]
    survive = (alpha + t) ** (-(r + x)) * (beta + t) ** (-s)
    return float(
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + np.log(survive + s * integral)
    )


@pytest.mark.parametrize(
    "params",
    [(0.55, 10.6, 0.61, 11.7), (0.55, 20.0, 0.61, 3.0), (2.0, 1.0, 0.3, 0.01)],
)
def test_log_likelihood_matches_numerical_integration(
    params: tuple[float, float, float, float],
) -> None:
    # both the alpha >= beta and alpha < beta branches of note 009, eq. 22
    rows = [(0, 0, 30), (2, 10, 30), (5, 29.9, 30), (1, 0, 39), (10, 20, 20)]
    model = ParetoNBD()
    model.params = dict(zip(PAPER, params, strict=True))
    summary = pd.DataFrame(rows, columns=["frequency", "recency", "T"], dtype=float)
    got = model.individual_log_likelihood(summary).to_numpy()
    expected = [_direct_log_likelihood(*params, *row) for row in rows]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_series_matches_scipy_where_scipy_is_reliable() -> None:
    b1 = np.array([0.5, 3.0, 10.0])
    c = np.array([2.0, 5.0, 12.0])
    z = np.array([0.3, 0.7, 0.95])
    np.testing.assert_allclose(
        np.exp(log_hyp2f1_euler(b1, c, z)), hyp2f1(1.0, b1, c, z), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("b1", "c", "z"),
    [(2000.2, 2001.8, 0.3), (2000.2, 2001.8, 0.9), (1.6, 2001.8, 0.99), (0.5, 3.0, 0.999)],
)
def test_series_matches_a_plain_term_by_term_sum(b1: float, c: float, z: float) -> None:
    # Gauss's series of 2F1(1, b1; c; z) summed naively in Python until terms vanish.
    total, term, n = 1.0, 1.0, 0
    while term > 1e-18 * total:
        term *= (b1 + n) / (c + n) * z
        total += term
        n += 1
    np.testing.assert_allclose(np.exp(log_hyp2f1_euler(b1, c, z)), total, rtol=1e-12)


def test_p_alive_and_expectation_properties(fitted: ParetoNBD) -> None:
    grid = pd.DataFrame(
        {"frequency": [0, 1, 5, 5, 20], "recency": [0.0, 3.0, 10.0, 30.0, 38.0], "T": 39.0}
    )
    p = fitted.p_alive(grid)
    assert ((p > 0) & (p <= 1)).all()
    ages = pd.DataFrame({"frequency": 3, "recency": 5.0, "T": [6.0, 10.0, 20.0, 40.0]})
    assert np.all(np.diff(fitted.p_alive(ages).to_numpy()) < 0)
    e = fitted.expected_purchases(39, grid)
    assert (e >= 0).all()
    # A new customer is alive: the conditional expectation at x = 0, T = 0 is E[X(t)].
    newcomer = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]})
    np.testing.assert_allclose(
        fitted.expected_purchases(10, newcomer).iloc[0],
        fitted.population_expected_purchases(10)[0],
        rtol=1e-12,
    )


def test_extreme_frequency_stays_finite(fitted: ParetoNBD) -> None:
    heavy = pd.DataFrame({"frequency": [2000, 2000], "recency": [38.0, 10.0], "T": [39.0, 39.0]})
    assert np.isfinite(fitted.individual_log_likelihood(heavy)).all()
    alive = fitted.p_alive(heavy)
    assert np.isfinite(alive).all() and alive.iloc[1] < 1e-10
    assert np.isfinite(fitted.expected_purchases(39, heavy)).all()


def test_weighted_fit_equivalent_to_millions_with_a_heavy_buyer(
    cdnow_summary: pd.DataFrame,
) -> None:
    heavy = pd.concat(
        [
            cdnow_summary[["frequency", "recency", "T"]],
            pd.DataFrame({"frequency": [2000], "recency": [38.5], "T": [38.86]}, index=[-1]),
        ]
    )
    single = ParetoNBD().fit(heavy)
    weighted = ParetoNBD().fit(heavy, weights=np.full(len(heavy), 2_500_000 / len(heavy)))
    assert np.isfinite(weighted.log_likelihood)
    np.testing.assert_allclose(
        list(weighted.params.values()), list(single.params.values()), rtol=1e-3
    )
    np.testing.assert_allclose(
        weighted.log_likelihood, 2_500_000 / len(heavy) * single.log_likelihood, rtol=1e-7
    )
