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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

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


@dataclass(frozen=True)
class _Spenders:
    """The fit's rows with what does not depend on the parameters computed once, and
    the repeat counts' distinct values (a few dozen), on which ``gammaln`` and
    ``digamma`` are evaluated and gathered."""

    w: FloatArray
    total_w: float
    x_values: FloatArray
    x_at: NDArray[np.intp]
    w_by_x: FloatArray
    spend: FloatArray  # m * x
    w_x_log_mx: float  # sum of w x (log m + log x), the p-derivative's data term
    w_log_m: float
    w_x_log_x: float

    @classmethod
    def of(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _Spenders:
        x_values, x_at = np.unique(x, return_inverse=True)
        log_m, log_x = np.log(m), np.log(x)
        return cls(
            w=w,
            total_w=float(w.sum()),
            x_values=x_values,
            x_at=x_at,
            w_by_x=np.bincount(x_at, weights=w, minlength=x_values.size).astype(float),
            spend=m * x,
            w_x_log_mx=float((w * x) @ (log_m + log_x)),
            w_log_m=float(w @ log_m),
            w_x_log_x=float((w * x) @ log_x),
        )


def _value_and_grad(theta: FloatArray, rows: _Spenders) -> tuple[float, FloatArray]:
    """Negative (weighted) log-likelihood of :func:`_log_density` and its gradient in
    log-parameters."""
    p, q, g = np.exp(theta)
    xv, w = rows.x_values, rows.w
    pxv = p * xv
    log_g_mx = np.log(g + rows.spend)
    px_q = (pxv + q)[rows.x_at]
    w_by_x = rows.w_by_x
    ll = (
        w_by_x @ (gammaln(pxv + q) - gammaln(pxv))
        + rows.total_w * (q * np.log(g) - gammaln(q))
        + p * rows.w_x_log_mx
        - rows.w_log_m
        - (w * px_q) @ log_g_mx
    )
    psi_sum, psi_px = digamma(pxv + q), digamma(pxv)
    d_p = (
        (w_by_x * xv) @ (psi_sum - psi_px)
        + rows.w_x_log_mx
        - (w * rows.x_values[rows.x_at]) @ log_g_mx
    )
    d_q = w_by_x @ psi_sum + rows.total_w * (np.log(g) - digamma(q)) - w @ log_g_mx
    d_g = rows.total_w * q / g - (w * px_q) @ (1.0 / (g + rows.spend))
    grads = np.array([d_p, d_q, d_g])
    return -float(ll), -grads * np.exp(theta)


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
        rows = _Spenders.of(xs, ms, ws)
        result = fit_log_params(
            lambda th: _value_and_grad(th, rows)[0],
            [initial[k] for k in PARAM_NAMES],
            n_obs=ws.sum(),
            grad=lambda th: _value_and_grad(th, rows)[1],
            value_and_grad=lambda th: _value_and_grad(th, rows),
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
