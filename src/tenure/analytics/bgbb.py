"""BG/BB ("beta-geometric / beta-Bernoulli") model for discrete purchase opportunities.

Source: Fader, P. S., Hardie, B. G. S. & Shang, J. (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", Marketing Science 29(6), 1086-1108: eq. 5
likelihood, eq. 11 P(alive), eq. 13 conditional expected transactions.

Use it when purchases can only happen at discrete occasions (yearly donation drives,
annual events, weekly sessions): at each opportunity an active customer transacts with
probability ``p ~ Beta(alpha, beta)``; before each opportunity they may become inactive
with probability ``theta ~ Beta(gamma, delta)``. The summary counts, per customer, the
``frequency`` of repeat transactions, the ``recency`` (opportunity index of the last one,
0 when none) and ``n_periods`` (opportunities after the first transaction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln, logsumexp

from tenure.analytics._inputs import FloatArray, resolve_weights, summary_columns
from tenure.analytics._model import FittedModel
from tenure.analytics._optimize import fit_log_params, unique_rows

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")
COLUMNS = ["frequency", "recency", "n_periods"]


def _check(x: FloatArray, tx: FloatArray, n: FloatArray) -> None:
    for name, values in (("frequency", x), ("recency", tx), ("n_periods", n)):
        if np.any(values != np.round(values)):
            raise ValueError(f"{name} must hold whole numbers of opportunities")
    if np.any(x > tx) or np.any(tx > n):
        raise ValueError("BG/BB needs frequency <= recency <= n_periods")
    if np.any((x == 0) & (tx != 0)):
        raise ValueError("customers with frequency 0 must have recency 0")


def _log_likelihood(theta: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """Per-row log-likelihood (FHS 2010 eq. 5), a log-sum-exp over the dropout period."""
    alpha, beta, gamma, delta = np.exp(theta)
    ab = betaln(alpha, beta)
    gd = betaln(gamma, delta)
    alive = betaln(alpha + x, beta + n - x) - ab + betaln(gamma, delta + n) - gd
    # The customer became inactive right after opportunity t_x + i, i = 0 .. n - t_x - 1.
    width = int((n - tx).max()) if n.size else 0
    if width == 0:
        return alive
    i = np.arange(width)[None, :]
    valid = i < (n - tx)[:, None]
    dropped = (
        betaln(alpha + x[:, None], beta + tx[:, None] - x[:, None] + i)
        - ab
        + betaln(gamma + 1.0, delta + tx[:, None] + i)
        - gd
    )
    dropped = np.where(valid, dropped, -np.inf)
    return logsumexp(np.column_stack([alive, dropped]), axis=1)


class BetaGeoBeta(FittedModel):
    """BG/BB model of transactions at discrete opportunities (Fader, Hardie & Shang 2010).

    Attributes
    ----------
    params : dict
        ``alpha``, ``beta`` (transaction probability), ``gamma``, ``delta`` (dropout).
    log_likelihood : float
        Total log-likelihood (FHS 2010 report -33,225.6 on the 1995 donor cohort).
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
    ) -> BetaGeoBeta:
        """Fit by maximum likelihood on the unique ``(frequency, recency, n_periods)`` rows.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``n_periods`` (whole numbers).
        weights : array-like or str, optional
            Customers per row, e.g. the counts of a published recency/frequency table.
        initial : dict, optional
            Starting values (default all 1).

        Returns
        -------
        BetaGeoBeta
            ``self``.
        """
        x, tx, n = summary_columns(summary, COLUMNS)
        _check(x, tx, n)
        (ux, utx, un), counts = unique_rows([x, tx, n], resolve_weights(summary, weights))
        start = initial or dict.fromkeys(PARAM_NAMES, 1.0)
        result = fit_log_params(
            lambda th: -float(counts @ _log_likelihood(th, ux, utx, un)),
            [start[k] for k in PARAM_NAMES],
            n_obs=counts.sum(),
        )
        self._store(result)
        return self

    def _arrays(self, summary: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._require_fitted()
        x, tx, n = summary_columns(summary, COLUMNS)
        _check(x, tx, n)
        return x, tx, n

    def individual_log_likelihood(self, summary: pd.DataFrame) -> pd.Series:
        """Log-likelihood of each customer's history (FHS 2010 eq. 5)."""
        x, tx, n = self._arrays(summary)
        return pd.Series(
            _log_likelihood(self._theta(), x, tx, n), index=summary.index, name="log_likelihood"
        )

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability of being active at opportunity ``n_periods + 1`` (FHS 2010 eq. 11)."""
        x, tx, n = self._arrays(summary)
        alpha, beta, gamma, delta = (self.params[k] for k in PARAM_NAMES)
        log_alive = (
            betaln(alpha + x, beta + n - x)
            - betaln(alpha, beta)
            + betaln(gamma, delta + n + 1)
            - betaln(gamma, delta)
        )
        value = np.exp(log_alive - _log_likelihood(self._theta(), x, tx, n))
        return pd.Series(value, index=summary.index, name="p_alive")

    def expected_purchases(self, t: int, summary: pd.DataFrame) -> pd.Series:
        """Expected transactions in the next ``t`` opportunities (FHS 2010 eq. 13).

        ``E = B(alpha+x+1, beta+n-x)/B(alpha,beta) * sum_{k=1..t} B(gamma, delta+n+k) /
        B(gamma, delta) / L``; the sum has the closed form ``delta/(gamma-1) *
        Gamma(gamma+delta)/Gamma(1+delta) * [Gamma(1+delta+n)/Gamma(gamma+delta+n) -
        Gamma(1+delta+n+t)/Gamma(gamma+delta+n+t)]``, used unless ``gamma`` is within
        1e-6 of 1 where it is 0/0 and the sum is taken term by term.
        """
        if t < 0 or t != int(t):
            raise ValueError("t must be a non-negative whole number of opportunities")
        x, tx, n = self._arrays(summary)
        alpha, beta, gamma, delta = (self.params[k] for k in PARAM_NAMES)
        log_head = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta)
        log_ll = _log_likelihood(self._theta(), x, tx, n)
        if abs(gamma - 1.0) > 1e-6:
            survive = (
                delta
                / (gamma - 1.0)
                * np.exp(gammaln(gamma + delta) - gammaln(1 + delta))
                * (
                    np.exp(gammaln(1 + delta + n) - gammaln(gamma + delta + n))
                    - np.exp(gammaln(1 + delta + n + t) - gammaln(gamma + delta + n + t))
                )
            )
        else:
            k = np.arange(1, int(t) + 1)[None, :]
            survive = np.exp(betaln(gamma, delta + n[:, None] + k) - betaln(gamma, delta)).sum(
                axis=1
            )
        value = np.exp(log_head - log_ll) * survive
        return pd.Series(value, index=summary.index, name="expected_purchases")
