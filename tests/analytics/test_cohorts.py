"""cohort_retention: PRODUCT.md "share of a first-purchase cohort that purchased again in
month k"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tenure.analytics import cohort_retention


def test_hand_computed_cohorts() -> None:
    # given three January customers and one February customer
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
            "date": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-01-20",  # same month as the first purchase: not a return
                    "2024-03-02",
                    "2024-01-10",
                    "2024-02-11",
                    "2024-01-31",
                    "2024-02-01",
                    "2024-03-30",
                ]
            ),
        }
    )

    result = cohort_retention(log)

    assert result.sizes.tolist() == [3, 1]
    rates = result.rates
    assert list(rates.columns) == [1, 2]
    # January cohort: b returned in February (k=1), a in March (k=2)
    np.testing.assert_allclose(rates.iloc[0].to_numpy(), [1 / 3, 1 / 3], rtol=1e-12)
    # February cohort: d returned in March (k=1); k=2 (April) is not observed yet
    assert rates.iloc[1, 0] == 1.0
    assert np.isnan(rates.iloc[1, 1])
    assert str(rates.index[0]) == "2024-01"


def test_cdnow_sample_cohorts(cdnow_transactions: pd.DataFrame) -> None:
    result = cohort_retention(cdnow_transactions, freq="M")
    # the CDNOW sample's customers all made their first purchase in 1997-Q1
    # (PROVENANCE.md), 2,357 in total
    assert [str(p) for p in result.sizes.index] == ["1997-01", "1997-02", "1997-03"]
    assert result.sizes.sum() == 2357
    assert ((result.rates >= 0) & (result.rates <= 1) | result.rates.isna()).all().all()
    # last data month is 1998-06: the March 1997 cohort is observed 15 months on
    assert result.rates.loc[pd.Period("1997-03", "M")].notna().sum() == 15


def test_observation_end_hides_later_periods(cdnow_transactions: pd.DataFrame) -> None:
    result = cohort_retention(cdnow_transactions, observation_end="1997-06-15")
    assert list(result.rates.columns) == [1, 2, 3, 4, 5]
    assert result.rates.iloc[2, 3:].isna().all()
