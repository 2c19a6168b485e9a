"""Pure customer analytics on pandas DataFrames: RFM, CLV models, churn, cohorts, KPIs.

No database and no I/O: every function takes and returns DataFrames, Series or numbers,
so it works the same from a notebook, the web app or a worker. Time units follow the RFM
summary (weeks by default); money is whatever currency the amounts are in.

Examples
--------
From a purchase log with ``customer_id``, ``date`` and ``amount`` columns::

    summary = rfm_summary(log, calibration_end="1997-09-30", observation_end="1998-06-30")
    purchases = BetaGeo().fit(summary)          # or ParetoNBD()
    spend = GammaGamma().fit(summary)
    summary["p_alive"] = purchases.p_alive(summary)
    summary["clv"] = clv(purchases, spend, summary, horizon_months=12,
                         annual_discount_rate=0.10, margin=0.30)
    check = backtest(BetaGeo(), summary)        # holdout accuracy, by frequency
"""

from tenure.analytics.backtest import BacktestResult, backtest
from tenure.analytics.betageo import BetaGeo
from tenure.analytics.bgbb import BetaGeoBeta
from tenure.analytics.churn import ChurnModel, calibration_table
from tenure.analytics.clv import clv
from tenure.analytics.cohorts import CohortRetention, cohort_retention
from tenure.analytics.gamma_gamma import GammaGamma
from tenure.analytics.kpis import (
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
from tenure.analytics.pareto_nbd import ParetoNBD
from tenure.analytics.rfm import rfm_summary

__all__ = [
    "BacktestResult",
    "BetaGeo",
    "BetaGeoBeta",
    "ChurnModel",
    "CohortRetention",
    "GammaGamma",
    "ParetoNBD",
    "backtest",
    "cac",
    "cac_by",
    "calibration_table",
    "ces",
    "churn_rate",
    "clv",
    "clv_to_cac",
    "cohort_retention",
    "csat",
    "customer_retention_rate",
    "engagement_score",
    "historical_clv",
    "nps",
    "rfm_summary",
    "roi",
]
