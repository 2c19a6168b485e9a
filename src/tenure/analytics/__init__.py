"""Pure customer analytics on pandas DataFrames: RFM, CLV models, churn, cohorts, KPIs.

No database and no I/O: every function takes and returns DataFrames, Series or numbers,
so it works the same from a notebook, the web app or a worker. Time units follow the RFM
summary (weeks by default); money is whatever currency the amounts are in.
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
