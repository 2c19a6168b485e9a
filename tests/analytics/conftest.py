"""Shared data for the analytics tests: the CDNOW 1/10 sample and the IBM telco table."""

from __future__ import annotations

import pandas as pd
import pytest

from tenure.analytics import rfm_summary
from tenure.datasets.files import CDNOW_SAMPLE, TELCO_CHURN

#: Calibration and holdout periods of the CDNOW studies (Fader, Hardie & Lee 2005).
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    frame = pd.read_csv(
        CDNOW_SAMPLE,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return rfm_summary(
        cdnow_transactions,
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )


@pytest.fixture(scope="session")
def telco() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(TELCO_CHURN).drop(columns="rownames")
    churned = frame.pop("churn") == "Yes"
    return frame, churned
