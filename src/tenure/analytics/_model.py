"""What every maximum-likelihood customer model shares: parameters, standard errors, the
log-likelihood, a repr and a summary table (the pattern of pymc-marketing's ``CLVModel``).

A subclass names its parameters (``param_names``), fits with ``_optimize.fit_log_params``
and hands the result to ``_store``; predictions read ``_theta`` (the log parameters), which
refuses an unfitted model.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from tenure.analytics._inputs import FloatArray
from tenure.analytics._optimize import FitResult


class FittedModel:
    """Base of BetaGeo, ParetoNBD, BetaGeoBeta and GammaGamma.

    Attributes
    ----------
    params : dict
        Maximum-likelihood estimates by name (empty until ``fit``).
    standard_errors : dict
        Delta-method standard errors from the observed information matrix.
    log_likelihood : float
        Total log-likelihood at the estimates (NaN until ``fit``).
    converged : bool
        Whether the optimiser reported convergence.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    params: dict[str, float]
    log_likelihood: float
    standard_errors: dict[str, float]
    converged: bool

    def __init__(self) -> None:
        self.params = {}
        self.log_likelihood = float("nan")
        self.standard_errors = {}
        self.converged = False

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items()) or "unfitted"
        return f"{type(self).__name__}({body})"

    def _store(self, result: FitResult) -> None:
        names = self.param_names
        self.params = dict(zip(names, map(float, result.params), strict=True))
        self.standard_errors = dict(zip(names, map(float, result.standard_errors), strict=True))
        self.log_likelihood = result.log_likelihood
        self.converged = result.converged

    def _require_fitted(self) -> None:
        if not self.params:
            raise ValueError("the model is not fitted; call fit() first")

    def _theta(self) -> FloatArray:
        self._require_fitted()
        return np.log([self.params[k] for k in self.param_names])

    def summary_table(self) -> pd.DataFrame:
        """Parameters with their standard errors, one row per parameter."""
        return pd.DataFrame(
            {"estimate": self.params, "standard_error": self.standard_errors}
        ).rename_axis("parameter")
