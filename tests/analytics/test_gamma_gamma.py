"""Gamma-Gamma spend model against Fader, Hardie & Lee (2005), "RFM and CLV"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import GammaGamma

# FHL 2005 "RFM and CLV: Using Iso-value Curves" and Fader & Hardie (2013) "The Gamma-Gamma
# Model of Monetary Value" (note 025): 946 CDNOW repeat buyers, mean repeat spend in the
# calibration period: p = 6.25, q = 3.74, v (gamma) = 15.44.
PAPER = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow_summary)


def test_fit_reproduces_the_paper(fitted: GammaGamma) -> None:
    assert fitted.n_customers == 946
    got = [fitted.params[k] for k in PAPER]
    np.testing.assert_allclose(got, list(PAPER.values()), rtol=5e-3)
    assert all(v > 0 for v in fitted.standard_errors.values())


def test_expected_spend_shrinks_own_mean_towards_population_mean(fitted: GammaGamma) -> None:
    # note 025, eq. 5: a weighted average of the population mean p*gamma/(q-1) and m_x
    population = fitted.population_mean_spend()
    rows = pd.DataFrame({"frequency": [0, 1, 10, 100], "monetary": [0.0, 100.0, 100.0, 100.0]})
    spend = fitted.expected_spend(rows).to_numpy()
    np.testing.assert_allclose(spend[0], population, rtol=1e-12)
    assert population < spend[1] < spend[2] < spend[3] < 100.0
    p, q, g = (fitted.params[k] for k in ("p", "q", "gamma"))
    np.testing.assert_allclose(spend[2], (g + 100.0 * 10) * p / (p * 10 + q - 1), rtol=1e-12)


def test_needs_repeat_buyers_with_positive_spend() -> None:
    with pytest.raises(ValueError, match="repeat"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0, 0], "monetary": [0.0, 0.0]}))
    with pytest.raises(ValueError, match="positive"):
        GammaGamma().fit(pd.DataFrame({"frequency": [1, 2], "monetary": [0.0, 3.0]}))


def test_analytic_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    from tenure.analytics.gamma_gamma import _log_density, _Spenders, _value_and_grad

    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    x, m = (repeat[c].to_numpy(dtype=float) for c in ("frequency", "monetary"))
    w = np.random.default_rng(3).integers(1, 4, x.size).astype(float)
    rows = _Spenders.of(x, m, w)
    theta = np.log([4.0, 3.0, 12.0])
    value, gradient = _value_and_grad(theta, rows)
    np.testing.assert_allclose(value, -w @ _log_density(theta, x, m), rtol=1e-12)
    numeric = [
        (_value_and_grad(theta + h, rows)[0] - _value_and_grad(theta - h, rows)[0]) / 2e-6
        for h in np.eye(3) * 1e-6
    ]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5)


def test_fit_on_unique_rows_with_counts_equals_the_fit_on_every_customer(
    cdnow_summary: pd.DataFrame,
) -> None:
    rng = np.random.default_rng(11)
    copies = rng.integers(1, 5, len(cdnow_summary))
    every = cdnow_summary.loc[cdnow_summary.index.repeat(copies), ["frequency", "monetary"]]
    unique = every.groupby(["frequency", "monetary"]).size().rename("n").reset_index()
    whole = GammaGamma().fit(every)
    weighted = GammaGamma().fit(unique, weights="n")
    np.testing.assert_allclose(
        list(weighted.params.values()), list(whole.params.values()), rtol=1e-7
    )
    np.testing.assert_allclose(weighted.log_likelihood, whole.log_likelihood, rtol=1e-10)
    assert weighted.n_customers == (unique["frequency"] > 0).sum()
