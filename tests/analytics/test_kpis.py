"""KPI functions, as PRODUCT.md "KPI formulas" defines them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import (
    cac,
    cac_by,
    ces,
    churn_rate,
    clv_to_cac,
    csat,
    customer_retention_rate,
    engagement_score,
    historical_clv,
    nps,
    roi,
)


def test_churn_and_retention_rates() -> None:
    assert churn_rate(customers_at_start=200, customers_lost=30) == 0.15
    # CRR = (E - N) / S = (190 - 20) / 200
    np.testing.assert_allclose(
        customer_retention_rate(customers_at_start=200, customers_at_end=190, new_customers=20),
        0.85,
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="exceed"):
        churn_rate(customers_at_start=10, customers_lost=11)
    with pytest.raises(ValueError, match="undefined"):
        customer_retention_rate(customers_at_start=0, customers_at_end=5, new_customers=5)


def test_survey_scores() -> None:
    answers = [10, 9, 9, 8, 7, 6, 0, None]  # 3 promoters, 2 detractors of 7 answers
    np.testing.assert_allclose(nps(answers), 100 * (3 - 2) / 7, rtol=1e-12)
    assert nps([10, 10]) == 100.0 and nps([0, 6]) == -100.0
    assert csat([5, 4, 3, 1]) == 50.0
    assert ces([1, 7, 4]) == 4.0


@pytest.mark.parametrize(
    ("function", "answers"),
    [(nps, [11]), (nps, [-1]), (nps, [7.5]), (csat, [0]), (csat, [6]), (ces, [8]), (ces, [])],
)
def test_out_of_range_answers_are_refused(function, answers) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        function(answers)


def test_acquisition_cost_roi_and_clv_to_cac() -> None:
    assert cac(5000.0, 100) == 50.0
    by_channel = cac(
        pd.Series({"ads": 3000.0, "email": 500.0, "events": 800.0}),
        pd.Series({"ads": 60, "email": 25, "events": 0}),
    )
    assert by_channel["ads"] == 50.0 and by_channel["email"] == 20.0
    assert np.isnan(by_channel["events"])
    with pytest.raises(ValueError, match="no customer"):
        cac(100.0, 0)
    np.testing.assert_allclose(roi(revenue=1500.0, cost=1000.0), 0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="zero cost"):
        roi(revenue=1.0, cost=0.0)
    np.testing.assert_allclose(clv_to_cac([100.0, 200.0, 300.0], 50.0), 4.0, rtol=1e-12)


def test_cac_by_channel_and_campaign() -> None:
    spend = pd.DataFrame(
        {
            "channel": ["ads", "ads", "email"],
            "campaign": ["spring", "summer", "spring"],
            "amount": [1000.0, 500.0, 300.0],
        }
    )
    acquired = pd.DataFrame(
        {
            "channel": ["ads", "ads", "ads", "email"],
            "campaign": ["spring", "spring", "summer", "spring"],
            "customer_id": [1, 2, 3, 4],
        }
    )
    table = cac_by(spend, acquired, by=["channel", "campaign"])
    assert table.loc[("ads", "spring"), "cac"] == 500.0
    assert table.loc[("email", "spring"), "new_customers"] == 1
    per_channel = cac_by(spend, acquired, by="channel")
    assert per_channel.loc["ads", "cac"] == 500.0


def test_engagement_score_halves_every_half_life() -> None:
    as_of = pd.Timestamp("2024-03-31", tz="UTC")
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(
                ["2024-03-31", "2024-03-01", "2024-01-31", "2024-04-05"], utc=True
            ),
            "weight": [1.0, 2.0, 4.0, 1.0],
        }
    )
    score = engagement_score(events, as_of=as_of, half_life_days=30, weight="weight")
    # a: 1 today + 2 thirty days ago (x 0.5); b: 4 sixty days ago (x 0.25), future ignored
    np.testing.assert_allclose(score.loc[["a", "b"]].to_numpy(), [2.0, 1.0], rtol=1e-12)
    with pytest.raises(ValueError, match="timezone"):
        engagement_score(events, as_of="2024-03-31")
    with pytest.raises(ValueError, match="half_life"):
        engagement_score(events, as_of=as_of, half_life_days=0)


def test_historical_clv_sums_margin_to_date() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
            "amount": [100.0, 50.0, 80.0],
        }
    )
    value = historical_clv(log, margin=0.3)
    np.testing.assert_allclose(value.loc[["a", "b"]].to_numpy(), [45.0, 24.0], rtol=1e-12)
    to_jan = historical_clv(log, margin=0.3, time="date", as_of="2024-01-31")
    np.testing.assert_allclose(to_jan.loc["a"], 30.0, rtol=1e-12)
