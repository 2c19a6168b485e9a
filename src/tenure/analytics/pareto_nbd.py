"""Pareto/NBD purchase model.

Sources: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", Management Science 33(1), 1-24; and
Fader, P. S. & Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and
Related Expressions" (note 009): eq. 19-22 likelihood with the ``alpha >= beta`` and
``alpha < beta`` cases, eq. 18 P(alive), eq. 23 conditional expectation.

While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; their lifetime
is exponential with rate ``mu ~ Gamma(s, beta)``. ``alpha`` and ``beta`` are in the time
units of the summary.

Numerical scheme
----------------
The likelihood holds ``A0 = F(t_x) - F(T)`` with ``F(t) = 2F1(a, b; a + 1; z(t)) /
(m + t)^a``, ``a = r + s + x``, ``m = max(alpha, beta)``, ``z(t) = |alpha - beta| / (m + t)``
and ``b = s + 1`` (``alpha >= beta``) or ``r + x`` (``alpha < beta``). Raw, ``(m + t)^a``
overflows at ``x`` in the thousands and ``2F1`` is huge with ``z`` near 1, so everything
is computed in logs. Euler's transformation ``2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b;
a+1; z)`` leaves a series of positive terms whose ratio ``(a+1-b+n)/(a+1+n) z`` is below
``z``: it is summed term by term (no cancellation) until the geometric tail bound is below
1e-15 of the sum, for each row only as long as that row needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import gammaln, hyp2f1

from tenure.analytics._inputs import (
    FloatArray,
    check_recency,
    resolve_weights,
    summary_columns,
)
from tenure.analytics._model import FittedModel
from tenure.analytics._optimize import IntArray, fit_log_params, group_rows, unique_rows
from tenure.analytics._purchases import discounted_increments

PARAM_NAMES = ("r", "alpha", "s", "beta")

# Hard cap on series terms; with the tail bound a row needs about 35 / -log(z) terms, so the
# cap binds only for z > 0.9998, where the sum is truncated (the tail bound keeps the
# relative error below 1e-4 there). Measured: CDNOW fits need under 30 terms per row.
_MAX_TERMS = 200_000
_TOL = 1e-15
_FIRST_CHUNK = 64
# Below this z, scipy's compiled hyp2f1 sums the same positive series (Gauss's series
# converges at least as fast as 0.5^n) and agrees with the chunked sum to 1e-14.
_SCIPY_MAX_Z = 0.5


def log_hyp2f1_euler(b1: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """``log 2F1(1, b1; c; z)`` for ``0 <= b1 < c`` and ``0 <= z < 1``.

    Terms ``t_n = prod_{k<n} (b1 + k) / (c + k) * z^n`` are positive and decrease faster
    than ``z^n``, so the remainder after term ``t_n`` is below ``t_n z / (1 - z)`` and the
    sum lies in ``[1, 1 / (1 - z)]``: it can neither overflow nor cancel. For ``z <= 0.5``
    scipy's ``hyp2f1`` evaluates it; above, the terms are summed here in vectorised
    chunks (cumulative products of the term ratios), 64 at first and four times more for
    each round a row stays unconverged, so a row with ``z`` near 1 costs a handful of
    numpy calls rather than one Python iteration per term.
    """
    b1, c, z = (
        np.atleast_1d(v).astype(float)
        for v in np.broadcast_arrays(np.asarray(b1), np.asarray(c), np.asarray(z))
    )
    total = np.ones(z.shape)
    easy = z <= _SCIPY_MAX_Z
    total[easy] = hyp2f1(1.0, b1[easy], c[easy], z[easy])
    term = np.ones(z.shape)
    active = np.flatnonzero(~easy)
    n0, chunk = 0, _FIRST_CHUNK
    while active.size and n0 < _MAX_TERMS:
        k = n0 + np.arange(chunk, dtype=float)[None, :]
        za = z[active][:, None]
        terms = term[active][:, None] * np.cumprod(
            (b1[active][:, None] + k) / (c[active][:, None] + k) * za, axis=1
        )
        total[active] += terms.sum(axis=1)
        last = terms[:, -1]
        term[active] = last
        za = za[:, 0]
        done = last * za <= _TOL * total[active] * (1 - za)
        active = active[~done]
        n0 += chunk
        chunk *= 4
    return np.log(total)


@dataclass(frozen=True)
class _Rows:
    """Customers' ``(x, t_x, T)`` plus the distinct ``(x, t)`` pairs of the 2F1 terms.

    ``F(t)`` depends on ``(x, t)`` only, and ``t`` is either ``t_x`` or ``T``: the 11,104
    distinct CDNOW triples hold 5,119 distinct pairs, so evaluating ``F`` per pair does a
    quarter of the per-row work.
    """

    x: FloatArray
    tx: FloatArray
    age: FloatArray
    pair_x: FloatArray
    pair_t: FloatArray
    at_tx: IntArray
    at_age: IntArray

    @classmethod
    def build(cls, x: FloatArray, tx: FloatArray, age: FloatArray) -> _Rows:
        both_x = np.concatenate([x, x])
        both_t = np.concatenate([tx, age])
        first, group = group_rows([both_x, both_t])
        return cls(x, tx, age, both_x[first], both_t[first], group[: x.size], group[x.size :])


def _log_a0_parts(theta: FloatArray, rows: _Rows) -> tuple[FloatArray, FloatArray]:
    """``log`` of the two terms of the Pareto/NBD likelihood (note 009, eq. 22).

    Returns ``(log_first, log_second)`` with ``L = C * (exp(log_first) + exp(log_second))``
    where ``C = Gamma(r+x) alpha^r beta^s / Gamma(r)``.
    """
    r, alpha, s, beta = np.exp(theta)
    x, age = rows.x, rows.age
    log_first = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    px, pt = rows.pair_x, rows.pair_t
    a = r + s + px
    if alpha >= beta:
        big, diff, b = alpha, alpha - beta, np.full_like(px, s + 1.0)
    else:
        big, diff, b = beta, beta - alpha, r + px
    z = diff / (big + pt)
    log_f = (
        (1.0 - b) * np.log1p(-z) + log_hyp2f1_euler(a + 1.0 - b, a + 1.0, z) - a * np.log(big + pt)
    )
    log_f_tx, log_f_t = log_f[rows.at_tx], log_f[rows.at_age]
    # A0 = F(t_x) - F(T) >= 0, zero when t_x == T (last purchase at the end of the window).
    gap = np.minimum(log_f_t - log_f_tx, 0.0)
    with np.errstate(divide="ignore"):
        log_a0 = log_f_tx + np.log(-np.expm1(gap))
    log_second = np.log(s) - np.log(r + s + x) + log_a0
    return log_first, log_second


def _log_likelihood(theta: FloatArray, rows: _Rows) -> FloatArray:
    r, alpha, s, beta = np.exp(theta)
    log_first, log_second = _log_a0_parts(theta, rows)
    const = gammaln(r + rows.x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return const + np.logaddexp(log_first, log_second)


class ParetoNBD(FittedModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005).

    Attributes
    ----------
    params : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha``, ``beta`` in the summary's time unit).
    log_likelihood : float
        Total log-likelihood, comparable with Fader, Hardie & Lee (2005)'s -9595.0 on the
        CDNOW sample in weeks.
    standard_errors : dict
        Delta-method standard errors.
    """

    param_names = PARAM_NAMES

    def fit(
        self,
        summary: pd.DataFrame,
        *,
        weights: ArrayLike | str | None = None,
        initial: dict[str, float] | None = None,
    ) -> ParetoNBD:
        """Fit by maximum likelihood on the unique ``(frequency, recency, T)`` triples.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T`` (see :func:`rfm_summary`).
        weights : array-like or str, optional
            Customers represented by each row (or the name of such a column).
        initial : dict, optional
            Starting values; default ``r = s = 1`` and ``alpha``, ``beta`` equal to the
            mean age divided by the mean frequency.

        Returns
        -------
        ParetoNBD
            ``self``.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        check_recency(x, tx, age)
        (ux, utx, uage), counts = unique_rows([x, tx, age], resolve_weights(summary, weights))
        rows = _Rows.build(ux, utx, uage)
        if initial is None:
            scale = max(np.average(uage, weights=counts), 1e-6) / max(
                np.average(ux, weights=counts), 0.05
            )
            initial = {"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale}
        result = fit_log_params(
            lambda th: -float(counts @ _log_likelihood(th, rows)),
            [initial[k] for k in PARAM_NAMES],
            n_obs=counts.sum(),
        )
        self._store(result)
        return self

    def individual_log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Log-likelihood of each customer's ``(frequency, recency, T)`` (note 009, eq. 22)."""
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        return pd.Series(
            _log_likelihood(self._theta(), _Rows.build(x, tx, age)),
            index=summary.index,
            name="log_likelihood",
        )

    def _p_alive(self, x: FloatArray, tx: FloatArray, age: FloatArray) -> FloatArray:
        log_first, log_second = _log_a0_parts(self._theta(), _Rows.build(x, tx, age))
        return np.exp(log_first - np.logaddexp(log_first, log_second))

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at ``T`` (note 009, eq. 18).

        ``P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)``, computed as the
        share of the first likelihood term in log space.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        return pd.Series(self._p_alive(x, tx, age), index=summary.index, name="p_alive")

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Expected purchases in the next ``t`` time units given the history (note 009, eq. 23).

        ``E = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)``,
        with the ``s -> 1`` limit ``(r+x)(beta+T)/(alpha+T) log((beta+T+t)/(beta+T))``.
        """
        x, tx, age = summary_columns(summary, ["frequency", "recency", "T"])
        self._theta()
        value = self._growth(float(t), x, age) * self._p_alive(x, tx, age)
        return pd.Series(value, index=summary.index, name="expected_purchases")

    def discounted_expected_purchases(
        self, times: ArrayLike, discount_factors: ArrayLike, summary: pd.DataFrame
    ) -> pd.Series:
        """``sum_k [E(t_k) - E(t_(k-1))] / discount_factors[k]``, ``E(t_0) = 0``, with ``E``
        as in :meth:`expected_purchases` (what :func:`tenure.analytics.clv` values);
        P(alive), whose hypergeometric term is the costly part, is computed once.

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
        steps = discounted_increments(
            lambda t: self._growth(t, x, age),
            np.asarray(times, dtype=float),
            np.asarray(discount_factors, dtype=float),
        )
        value = steps * self._p_alive(x, tx, age)
        return pd.Series(value, index=summary.index, name="discounted_expected_purchases")

    def _growth(self, t: float | FloatArray, x: FloatArray, age: FloatArray) -> FloatArray:
        if np.any(np.asarray(t) < 0):
            raise ValueError("t must be non-negative")
        r, alpha, s, beta = (self.params[k] for k in PARAM_NAMES)
        log_ratio = np.log(beta + age + t) - np.log(beta + age)
        sm1 = s - 1.0
        # -expm1(-(s-1) L) / (s-1) -> L as s -> 1; the series form avoids 0/0.
        factor = -np.expm1(-sm1 * log_ratio) / sm1 if abs(sm1) > 1e-8 else log_ratio
        return (r + x) * (beta + age) / (alpha + age) * factor

    def population_expected_purchases(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases in ``(0, t]`` for a new customer (note 009, eq. 17)."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        self._theta()
        zeros = np.zeros_like(times)
        return self._growth(times, zeros, zeros)
