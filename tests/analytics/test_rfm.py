"""rfm_summary: conventions of the CDNOW studies and of lifetimes' summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import rfm_summary


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c", "d"],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",  # same day: merged with the line above
                    "2024-01-15",
                    "2024-02-05",  # after the calibration end: holdout
                    "2024-01-08",
                    "2024-01-03",
                    "2024-01-10",
                    "2024-02-01",  # first purchase after calibration: excluded
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 7.0, 3.0, 4.0, 6.0, 9.0],
        }
    )


def test_summary_counts_repeat_days_and_measures_in_weeks() -> None:
    # given a log with two purchases by "a" on one day
    log = _log()

    # when summarising to 2024-01-29 in weeks
    summary = rfm_summary(log, observation_end="2024-01-29")

    # then same-day purchases are one transaction and times are days / 7
    a = summary.loc["a"]
    assert a["frequency"] == 1
    np.testing.assert_allclose(a["recency"], 14 / 7, rtol=1e-12)
    np.testing.assert_allclose(a["T"], 28 / 7, rtol=1e-12)
    np.testing.assert_allclose(a["monetary"], 20.0, rtol=1e-12)
    b = summary.loc["b"]
    assert (b["frequency"], b["recency"], b["monetary"]) == (0, 0.0, 0.0)
    assert list(summary.index) == ["a", "b", "c"]
    assert summary.attrs["unit"] == "W"


def test_calibration_split_adds_holdout_columns_and_drops_late_customers() -> None:
    summary = rfm_summary(
        _log(), calibration_end="2024-01-29", observation_end="2024-02-26", unit="D"
    )

    assert "d" not in summary.index
    a = summary.loc["a"]
    assert (a["frequency"], a["frequency_holdout"]) == (1, 1)
    np.testing.assert_allclose(a["monetary_holdout"], 7.0, rtol=1e-12)
    np.testing.assert_allclose(a["T"], 28.0, rtol=1e-12)
    np.testing.assert_allclose(summary["duration_holdout"], 28.0, rtol=1e-12)
    assert summary.loc["c", "frequency_holdout"] == 0
    assert summary.loc["c", "monetary_holdout"] == 0.0


def test_cdnow_sample_matches_the_published_calibration_summary(
    cdnow_summary: pd.DataFrame,
) -> None:
    # Fader, Hardie & Lee (2005) "Counting your customers the easy way": 2,357 customers,
    # 946 with repeat purchases in the 39-week calibration period, which the Gamma-Gamma
    # study ("RFM and CLV", 2005) uses. The paper's worked example customer has T = 38.86
    # weeks: first purchase 1997-01-01, T measured to 1997-09-30.
    assert len(cdnow_summary) == 2357
    assert int((cdnow_summary["frequency"] > 0).sum()) == 946
    np.testing.assert_allclose(cdnow_summary["T"].max(), 272 / 7, rtol=1e-12)
    np.testing.assert_allclose(cdnow_summary["duration_holdout"].iloc[0], 39.0, rtol=1e-12)
    assert (cdnow_summary["recency"] <= cdnow_summary["T"]).all()


def test_timezone_aware_times_use_their_own_calendar_days() -> None:
    log = _log()
    log["date"] = log["date"].dt.tz_localize("Europe/Paris")
    end = pd.Timestamp("2024-01-29", tz="Europe/Paris")
    aware = rfm_summary(log, observation_end=end)
    naive = rfm_summary(_log(), observation_end="2024-01-29")
    pd.testing.assert_frame_equal(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        rfm_summary(log, observation_end="2024-01-29")


def test_without_amount_there_is_no_monetary_column() -> None:
    summary = rfm_summary(_log(), amount=None, observation_end="2024-01-29")
    assert "monetary" not in summary.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "fortnight"}, "unit"),
        ({"customer": "nope"}, "no column"),
        ({"calibration_end": "2024-03-01", "observation_end": "2024-02-01"}, "calibration_end"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rfm_summary(_log(), **kwargs)


def test_large_log_is_summarised_consistently() -> None:
    # 200,000 purchases by 20,000 customers: the vectorised path must agree with a plain
    # pandas computation of the same quantities.
    rng = np.random.default_rng(1)
    n = 200_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 20_000, n),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            "amount": rng.gamma(2.0, 10.0, n),
        }
    )
    summary = rfm_summary(log, observation_end="2021-12-31")
    daily = log.groupby(["customer_id", "date"])["amount"].sum().reset_index()
    grouped = daily.groupby("customer_id")
    expected_freq = grouped.size() - 1
    first = grouped["date"].min()
    expected_rec = (grouped["date"].max() - first).dt.days / 7
    np.testing.assert_array_equal(summary["frequency"], expected_freq.to_numpy())
    np.testing.assert_allclose(summary["recency"], expected_rec.to_numpy(), rtol=1e-12)
    first_amount = daily.sort_values("date").groupby("customer_id")["amount"].first()
    repeat_total = grouped["amount"].sum() - first_amount
    expected_mon = (repeat_total / expected_freq.replace(0, np.nan)).fillna(0.0)
    np.testing.assert_allclose(summary["monetary"], expected_mon.to_numpy(), rtol=1e-9)
