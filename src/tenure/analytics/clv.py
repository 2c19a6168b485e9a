"""Predictive customer lifetime value (PRODUCT.md: "sum over future periods of expected
transactions x expected spend per transaction x margin, discounted")."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from tenure.analytics.gamma_gamma import GammaGamma
from tenure.analytics.rfm import UNIT_DAYS, unit_days

DAYS_PER_MONTH = UNIT_DAYS["M"]


class TransactionModel(Protocol):
    """A fitted purchase-count model in continuous time (BetaGeo or ParetoNBD)."""

    params: dict[str, float]

    def discounted_expected_purchases(
        self, times: ArrayLike, discount_factors: ArrayLike, summary: pd.DataFrame
    ) -> pd.Series: ...


def clv(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    unit: str | None = None,
) -> pd.Series:
    """Discounted expected margin of each customer over the next ``horizon_months``.

    ``CLV_i = sum_{m=1..H} [E_i(m) - E_i(m-1)] * E(spend_i) * margin / (1 + d)^(m/12)``
    where ``E_i(m)`` is the expected number of purchases in the next ``m`` months given
    the customer's history (:meth:`BetaGeo.expected_purchases` or
    :meth:`ParetoNBD.expected_purchases`; the models' ``discounted_expected_purchases``
    sums the periods), ``E(spend_i)`` the Gamma-Gamma expected spend
    (:meth:`GammaGamma.expected_spend`) and ``d`` the annual discount rate, applied per
    month as ``(1 + d)^(1/12) - 1`` (Fader, Hardie & Lee 2005, "RFM and CLV", sec. on
    DERT, in monthly steps as lifetimes' ``customer_lifetime_value``).

    Parameters
    ----------
    transaction_model : BetaGeo or ParetoNBD
        Fitted on a summary in the same time unit as ``summary``.
    spend_model : GammaGamma
        Fitted spend model.
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary`` per customer.
    horizon_months : int, default 12
        Months ahead (30.44 days each).
    annual_discount_rate : float, default 0.10
        E.g. 0.10 for 10% a year.
    margin : float, default 1.0
        Gross-margin share of revenue (1.0 values revenue).
    unit : {"D", "W", "M", "Y"}, optional
        Time unit of the summary; defaults to ``summary.attrs["unit"]`` (set by
        :func:`rfm_summary`), else weeks.

    Returns
    -------
    pandas.Series
        CLV per customer, in the currency of ``monetary``.
    """
    if horizon_months < 1 or int(horizon_months) != horizon_months:
        raise ValueError("horizon_months must be a positive whole number")
    if not 0 <= annual_discount_rate < 10:
        raise ValueError("annual_discount_rate must be a rate such as 0.1 (10%)")
    if not 0 <= margin <= 1:
        raise ValueError("margin must be a share between 0 and 1")
    unit_length = unit_days(unit or summary.attrs.get("unit", "W"))
    months_in_units = DAYS_PER_MONTH / unit_length
    spend = spend_model.expected_spend(summary).to_numpy()
    months = np.arange(1, int(horizon_months) + 1)
    purchases = transaction_model.discounted_expected_purchases(
        months * months_in_units, (1.0 + annual_discount_rate) ** (months / 12.0), summary
    ).to_numpy()
    return pd.Series(purchases * spend * margin, index=summary.index, name="clv")
