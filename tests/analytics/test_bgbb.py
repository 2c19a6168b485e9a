"""BG/BB against Fader, Hardie & Shang (2010), donation data of the 1995 cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import BetaGeoBeta

# Recency/frequency table of the 11,104 donors of the 1995 cohort over 6 opportunities,
# FHS 2010 Table 1 (as shipped in lifetimes' datasets/donations.csv):
# (frequency, recency, customers).
DONATIONS = [
    (0, 0, 3464), (1, 1, 1091), (1, 2, 277), (1, 3, 129), (1, 4, 78), (1, 5, 119),
    (1, 6, 129), (2, 2, 613), (2, 3, 255), (2, 4, 155), (2, 5, 173), (2, 6, 234),
    (3, 3, 322), (3, 4, 181), (3, 5, 225), (3, 6, 357), (4, 4, 240), (4, 5, 284),
    (4, 6, 512), (5, 5, 335), (5, 6, 728), (6, 6, 1203),
]  # fmt: skip
PAPER = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
PAPER_LL = -33225.6


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    frame = pd.DataFrame(DONATIONS, columns=["frequency", "recency", "customers"])
    frame["n_periods"] = 6
    return frame


@pytest.fixture(scope="module")
def fitted(donations: pd.DataFrame) -> BetaGeoBeta:
    return BetaGeoBeta().fit(donations, weights="customers")


def test_table_has_the_published_cohort_size(donations: pd.DataFrame) -> None:
    assert donations["customers"].sum() == 11_104


def test_fit_reproduces_the_paper(fitted: BetaGeoBeta) -> None:
    got = [fitted.params[k] for k in PAPER]
    np.testing.assert_allclose(got, list(PAPER.values()), rtol=5e-3)
    np.testing.assert_allclose(fitted.log_likelihood, PAPER_LL, rtol=5e-6)
    assert all(v > 0 for v in fitted.standard_errors.values())


def test_p_alive_matches_hardie_spreadsheet(fitted: BetaGeoBeta, donations: pd.DataFrame) -> None:
    # Hardie's BG/BB spreadsheet (note 010), as in lifetimes' BG/BB tests: P(alive in
    # 2002) for donors with (x, t_x) = (0, 0), (2, 4), (6, 6) is 0.11, 0.59, 0.93
    # (published to 2 decimals).
    p = fitted.p_alive(donations).to_numpy()
    picks = [(0, 0), (2, 4), (6, 6)]
    got = [
        p[(donations["frequency"] == x).to_numpy() & (donations["recency"] == tx).to_numpy()][0]
        for x, tx in picks
    ]
    np.testing.assert_allclose(got, [0.11, 0.59, 0.93], atol=5e-3)


def test_expected_donations_match_hardie_spreadsheet(
    fitted: BetaGeoBeta, donations: pd.DataFrame
) -> None:
    # Hardie's BG/BB spreadsheet, "Conditional Expectations (II)": 12,884.2 donations
    # expected from the cohort over the next 5 opportunities, 2002-2006 (lifetimes'
    # test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet).
    total = (fitted.expected_purchases(5, donations) * donations["customers"]).sum()
    np.testing.assert_allclose(total, 12_884.2, rtol=1e-4)


def test_gamma_near_one_uses_the_term_by_term_sum(
    fitted: BetaGeoBeta, donations: pd.DataFrame
) -> None:
    near = BetaGeoBeta()
    near.params = {**fitted.params, "gamma": 1.0 + 1e-5}
    exact = BetaGeoBeta()
    exact.params = {**fitted.params, "gamma": 1.0}
    np.testing.assert_allclose(
        exact.expected_purchases(5, donations), near.expected_purchases(5, donations), rtol=1e-4
    )


def test_simulated_panel_recovers_its_parameters() -> None:
    # BG/BB generative process (FHS 2010 section 2) with known parameters, 40,000
    # customers over 10 opportunities: estimates within 10% of the truth.
    rng = np.random.default_rng(7)
    n, periods = 40_000, 10
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    p = rng.beta(truth["alpha"], truth["beta"], n)
    theta = rng.beta(truth["gamma"], truth["delta"], n)
    alive = np.ones(n, dtype=bool)
    freq = np.zeros(n, dtype=int)
    rec = np.zeros(n, dtype=int)
    for t in range(1, periods + 1):
        alive &= rng.random(n) >= theta
        buy = alive & (rng.random(n) < p)
        freq += buy
        rec[buy] = t
    summary = pd.DataFrame({"frequency": freq, "recency": rec, "n_periods": periods})
    fitted = BetaGeoBeta().fit(summary)
    np.testing.assert_allclose([fitted.params[k] for k in truth], list(truth.values()), rtol=0.1)


def test_inconsistent_rows_are_refused() -> None:
    bad = pd.DataFrame({"frequency": [3], "recency": [2], "n_periods": [6]})
    with pytest.raises(ValueError, match="frequency <= recency"):
        BetaGeoBeta().fit(bad)
