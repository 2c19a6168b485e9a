"""Gamma-Gamma model of spend per transaction.

Sources: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV: Using Iso-value
Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430; and
Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note 025), eq. 1
(likelihood of the mean spend) and eq. 5 (conditional expected spend).

Each transaction's value is ``Gamma(p, nu)``; ``nu ~ Gamma(q, gamma)`` across customers (the
note's ``v`` is called ``gamma`` here, as in the 2005 paper). The model is fitted on
customers with at least one repeat transaction, using the mean value ``monetary`` of their
``frequency`` repeat transactions. Amounts are in currency units (e.g. dollars).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import gammaln

from tenure.analytics._inputs import FloatArray, resolve_weights, summary_columns
from tenure.analytics._model import FittedModel
from tenure.analytics._optimize import fit_log_params

PARAM_NAMES = ("p", "q", "gamma")


def _log_density(theta: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of the mean spend ``m`` over ``x`` transactions (note 025, eq. 1)."""
    p, q, g = np.exp(theta)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


class GammaGamma(FittedModel):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    Attributes
    ----------
    params : dict
        ``p``, ``q``, ``gamma`` (``gamma`` in currency units, the note's ``v``).
    log_likelihood : float
        Total log-likelihood of the repeat buyers' mean spends.
    standard_errors : dict
        Delta-method standard errors.
    n_customers : int
        Customers used (those with ``frequency > 0``).
    """

    param_names = PARAM_NAMES

    def __init__(self) -> None:
        super().__init__()
        self.n_customers = 0

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        weights: ArrayLike | str | None = None,
        initial: dict[str, float] | None = None,
    ) -> GammaGamma:
        """Fit on the customers with at least one repeat transaction.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` (repeat transactions) and ``monetary`` (mean value of
            those transactions, > 0 when frequency > 0).
        weights : array-like or str, optional
            Customers represented by each row.
        initial : dict, optional
            Starting values (default ``p=1, q=1, gamma`` = mean spend).

        Returns
        -------
        GammaGamma
            ``self``.
        """
        x, m = summary_columns(summary, ["frequency", "monetary"])
        w = resolve_weights(summary, weights)
        use = x > 0
        if w is not None:
            use &= w > 0
        if not use.any():
            raise ValueError("the Gamma-Gamma model needs customers with repeat transactions")
        if np.any(m[use] <= 0):
            raise ValueError("monetary must be positive for customers with repeat purchases")
        xs, ms = x[use], m[use]
        ws = np.ones(xs.size) if w is None else w[use]
        if initial is None:
            initial = {"p": 1.0, "q": 1.0, "gamma": float(np.average(ms, weights=ws))}
        result = fit_log_params(
            lambda th: -float(ws @ _log_density(th, xs, ms)),
            [initial[k] for k in PARAM_NAMES],
            n_obs=ws.sum(),
        )
        self._store(result)
        self.n_customers = int(use.sum())
        return self

    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """Expected value of each customer's future transactions (currency units).

        ``E(M | p, q, gamma, m_x, x) = (gamma + m_x x) p / (p x + q - 1)``
        (note 025, eq. 5): a weighted mean of the population mean ``p gamma / (q - 1)``
        and the customer's own mean ``m_x``. Customers without repeat transactions get the
        population mean. Requires ``q > 1`` (a finite population mean).
        """
        if not self.params:
            raise ValueError("the model is not fitted; call fit() first")
        x, m = summary_columns(summary, ["frequency", "monetary"])
        p, q, g = (self.params[k] for k in PARAM_NAMES)
        if q <= 1:
            raise ValueError("expected spend is infinite when q <= 1")
        m = np.where(x > 0, m, 0.0)
        value = (g + m * x) * p / (p * x + q - 1)
        return pd.Series(value, index=summary.index, name="expected_spend")

    def population_mean_spend(self) -> float:
        """Mean transaction value across customers, ``p gamma / (q - 1)``."""
        p, q, g = (self.params[k] for k in PARAM_NAMES)
        return p * g / (q - 1) if q > 1 else float("inf")
