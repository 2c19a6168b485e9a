"""BG/NBD ("beta-geometric / negative binomial distribution") purchase model.

Source: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284
(eq. 6 likelihood, eq. 7 E[X(t)], eq. 10 conditional expectation), with the rewrite of
the Gaussian hypergeometric term from Fader & Hardie (2013), "Overcoming the BG/NBD Model's
#NUM! Error Problem", which keeps it finite for customers with thousands of purchases.

While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after any
transaction they drop out with probability ``p ~ Beta(a, b)``. Time is in the units of
the summary (weeks in the papers); ``alpha`` carries those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1

from tenure.analytics._inputs import (
    FloatArray,
    check_recency,
    resolve_weights,
    summary_columns,
)
from tenure.analytics._model import FittedModel
from tenure.analytics._optimize import fit_log_params, unique_rows
from tenure.analytics._purchases import by_distinct_pair, discounted_increments

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class _Rows:
    """Observations with each column's distinct values, so that the special functions of
    the likelihood (``gammaln``, ``digamma``, ``log``) are evaluated once per distinct
    value and gathered: 50,000 customers have ~46,000 distinct ``(x, t_x, T)`` triples
    but ~120 distinct ``x``, ~730 ``t_x`` and ~365 ``T`` in days."""

    w: FloatArray
    x_values: FloatArray
    x_at: NDArray[np.intp]
    tx_values: FloatArray
    tx_at: NDArray[np.intp]
    age_values: FloatArray
    age_at: NDArray[np.intp]

    @classmethod
    def of(cls, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray) -> _Rows:
        x_values, x_at = np.unique(x, return_inverse=True)
        tx_values, tx_at = np.unique(tx, return_inverse=True)
        age_values, age_at = np.unique(age, return_inverse=True)
        return cls(w, x_values, x_at, tx_values, tx_at, age_values, age_at)


def _terms(theta: FloatArray, rows: _Rows) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-row log-likelihood and the mixture weight of the 'still alive' branch."""
    r, alpha, a, b = np.exp(theta)
    xv, repeat = rows.x_values, rows.x_values > 0
    log_alpha_t = np.log(alpha + rows.age_values)[rows.age_at]
    log_alpha_tx = np.log(alpha + rows.tx_values)[rows.tx_at]
    base = (
        gammaln(r + xv)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(b + xv)
        - gammaln(a + b + xv)
        - gammaln(b)
        + gammaln(a + b)
    )[rows.x_at]
    r_x = (r + xv)[rows.x_at]
    a3 = -r_x * log_alpha_t
    # For x = 0 the dropped-out branch does not exist; b + x - 1 = b - 1 may be negative
    # there, so the log is taken on a safe value and the branch masked to -inf.
    drop = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + xv - 1, 1.0)), -np.inf)
    a4 = drop[rows.x_at] - r_x * log_alpha_tx
    lse = np.logaddexp(a3, a4)
    w_alive = np.exp(a3 - lse)
    return base + lse, w_alive, log_alpha_t, log_alpha_tx


def _value_and_grad(theta: FloatArray, rows: _Rows) -> tuple[float, FloatArray]:
    """Negative log-likelihood and its analytic gradient in log-parameters, sharing the
    per-row terms (L-BFGS-B asks for both at every point)."""
    r, alpha, a, b = np.exp(theta)
    ll, w3, log_alpha_t, log_alpha_tx = _terms(theta, rows)
    w = rows.w
    xv, repeat = rows.x_values, rows.x_values > 0
    # Sums over rows of per-x constants are per-x weight totals times the constants.
    w_by_x = np.bincount(rows.x_at, weights=w, minlength=xv.size)
    w4 = 1.0 - w3
    w_w3, w_w4 = w * w3, w * w4
    w4_by_x = np.bincount(rows.x_at, weights=w_w4, minlength=xv.size)
    r_x = (r + rows.x_values)[rows.x_at]
    d_r = (
        w_by_x @ (digamma(r + xv) - digamma(r) + np.log(alpha))
        - w_w3 @ log_alpha_t
        - w_w4 @ log_alpha_tx
    )
    age = rows.age_values[rows.age_at]
    tx = rows.tx_values[rows.tx_at]
    d_alpha = (
        w.sum() * r / alpha
        - (w_w3 * r_x) @ (1.0 / (alpha + age))
        - (w_w4 * r_x) @ (1.0 / (alpha + tx))
    )
    d_a = w_by_x @ (digamma(a + b) - digamma(a + b + xv)) + w4_by_x.sum() / a
    d_b = w_by_x @ (digamma(b + xv) - digamma(a + b + xv) - digamma(b) + digamma(a + b)) - (
        w4_by_x @ np.where(repeat, 1.0 / np.where(repeat, b + xv - 1, 1.0), 0.0)
    )
    grads = np.array([d_r, d_alpha, d_a, d_b])
    return -float(np.dot(w, ll)), -grads * np.exp(theta)


def _neg_ll(
    theta: FloatArray, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray
) -> float:
    ll, _, _, _ = _terms(theta, _Rows.of(x, tx, age, w))
    return -float(np.dot(w, ll))


def _neg_grad(
    theta: FloatArray, x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray
) -> FloatArray:
    """Analytic gradient of the negative log-likelihood in log-parameters."""
    return _value_and_grad(theta, _Rows.of(x, tx, age, w))[1]


class BetaGeo(FittedModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Attributes
    ----------
    params : dict
        ``r``, ``alpha`` (time units of the summary), ``a``, ``b``.
    log_likelihood : float
        Total log-likelihood (FHL 2005 eq. 6), comparable with the paper's -9582.4 on the
        CDNOW sample in weeks.
    standard_errors : dict
        Delta-method standard errors from the observed information matrix.
    """

    param_names = PARAM_NAMES

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        weights: ArrayLike | str | None = None,
        initial: dict[str, float] | None = None,
    ) -> BetaGeo:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency`` (repeat transactions), ``recency`` and ``T`` (time of
            last purchase and age, both since the first purchase, in one time unit).
        weights : array-like or str, optional
            Number of customers each row stands for (or the name of such a column). The
            likelihood only depends on ``(frequency, recency, T)``, so rows are collapsed
            to unique triples with summed weights before optimising.
        initial : dict, optional
            Starting values; defaults to ``r=1, a=1, b=1`` and ``alpha`` set so that the
            initial purchase rate matches the observed mean.

        Returns
        -------
        BetaGeo
            ``self``.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        check_recency(x, tx, age)
        (ux, utx, uage), counts = unique_rows([x, tx, age], resolve_weights(summary, weights))
        if initial is None:
            rate = max(np.average(ux, weights=counts), 0.05) / max(
                np.average(uage, weights=counts), 1e-6
            )
            initial = {"r": 1.0, "alpha": 1.0 / rate, "a": 1.0, "b": 1.0}
        rows = _Rows.of(ux, utx, uage, counts)
        result = fit_log_params(
            lambda th: _value_and_grad(th, rows)[0],
            [initial[k] for k in PARAM_NAMES],
            n_obs=counts.sum(),
            grad=lambda th: _value_and_grad(th, rows)[1],
            value_and_grad=lambda th: _value_and_grad(th, rows),
        )
        self._store(result)
        return self

    def individual_log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Log-likelihood of each customer's ``(frequency, recency, T)`` (FHL 2005 eq. 6)."""
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        ll, _, _, _ = _terms(self._theta(), _Rows.of(x, tx, age, np.ones(x.size)))
        return pd.Series(ll, index=summary.index, name="log_likelihood")

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at ``T``.

        ``P(alive) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model", eq. 3),
        evaluated as a logistic of the log-odds so it stays in [0, 1] at any frequency.
        Equals 1 for customers without repeat purchases.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        self._theta()
        return pd.Series(self._p_alive(x, tx, age), index=summary.index, name="p_alive")

    def _p_alive(self, x: FloatArray, tx: FloatArray, age: FloatArray) -> FloatArray:
        r, alpha, a, b = (self.params[k] for k in PARAM_NAMES)
        repeat = x > 0
        log_odds_dead = (
            np.log(a)
            - np.log(np.where(repeat, b + x - 1, 1.0))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        )
        return np.where(repeat, expit(-log_odds_dead), 1.0)

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Expected purchases in the next ``t`` time units, given each customer's history.

        FHL 2005 eq. 10 with the hypergeometric term rewritten by Euler's transformation
        (Fader & Hardie 2013, note 027): ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x;
        a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, ``z = t/(alpha+T+t)``,
        whose parameters no longer grow with ``x``.

        Parameters
        ----------
        t : float
            Horizon, in the summary's time unit.
        summary : pandas.DataFrame
            ``frequency``, ``recency``, ``T``.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        self._theta()
        horizon = float(t)
        # The hypergeometric term depends on (frequency, T) only: once per distinct pair.
        growth = by_distinct_pair(lambda xs, ages: self._growth(horizon, xs, ages), x, age)
        value = growth * self._p_alive(x, tx, age)
        return pd.Series(value, index=summary.index, name="expected_purchases")

    def discounted_expected_purchases(
        self, times: ArrayLike, discount_factors: ArrayLike, summary: pd.DataFrame
    ) -> pd.Series:
        """Expected purchases of each period up to ``times[k]``, divided by its discount
        factor and summed: ``sum_k [E(t_k) - E(t_(k-1))] / discount_factors[k]``, ``E(t_0) =
        0``, with ``E`` as in :meth:`expected_purchases` (what :func:`tenure.analytics.clv`
        values). P(alive) is computed once, the hypergeometric terms once per distinct
        ``(frequency, T)`` and time.

        Parameters
        ----------
        times : array-like
            Increasing horizons, in the summary's time unit.
        discount_factors : array-like
            One per horizon, e.g. ``(1 + d)^(month / 12)``.
        summary : pandas.DataFrame
            ``frequency``, ``recency``, ``T``.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        self._theta()
        horizons = np.asarray(times, dtype=float)
        factors = np.asarray(discount_factors, dtype=float)

        def per_pair(xs: FloatArray, ages: FloatArray) -> FloatArray:
            return discounted_increments(lambda t: self._growth(t, xs, ages), horizons, factors)

        value = by_distinct_pair(per_pair, x, age) * self._p_alive(x, tx, age)
        return pd.Series(value, index=summary.index, name="discounted_expected_purchases")

    def _growth(self, t: float | FloatArray, x: FloatArray, age: FloatArray) -> FloatArray:
        """Expected purchases over the next ``t`` of a customer known to be alive: the
        conditional expectation without its P(alive) factor, a function of ``x`` and ``T``."""
        if np.any(np.asarray(t) < 0):
            raise ValueError("t must be non-negative")
        r, alpha, a, b = (self.params[k] for k in PARAM_NAMES)
        z = t / (alpha + age + t)
        hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        growth = 1.0 - np.exp((a - 1) * np.log1p(-z)) * hyp
        return (a + b + x - 1) / (a - 1) * growth

    def population_expected_purchases(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases in ``(0, t]`` for a new customer (FHL 2005 eq. 7)."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        self._theta()
        zeros = np.zeros_like(times)
        return self._growth(times, zeros, zeros) * self._p_alive(zeros, zeros, zeros)
