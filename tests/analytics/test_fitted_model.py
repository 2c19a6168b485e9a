"""The base every fitted customer model shares (analytics._model.FittedModel)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.analytics import BetaGeo, BetaGeoBeta, GammaGamma, ParetoNBD
from tenure.analytics._model import FittedModel

SUMMARY = pd.DataFrame({"frequency": [1.0, 2.0], "recency": [3.0, 5.0], "T": [10.0, 10.0]})


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD, BetaGeoBeta, GammaGamma])
def test_an_unfitted_model_says_so(model_class):
    model = model_class()
    assert isinstance(model, FittedModel)
    assert repr(model) == f"{model_class.__name__}(unfitted)"
    assert model.params == {} and np.isnan(model.log_likelihood) and not model.converged
    with pytest.raises(ValueError, match="not fitted"):
        model._theta()


def test_a_fitted_model_reports_its_parameters_and_errors():
    rng = np.random.default_rng(7)
    frequency = rng.integers(1, 6, size=400).astype(float)
    monetary = rng.gamma(shape=4.0, scale=10.0, size=400)
    model = GammaGamma().fit(pd.DataFrame({"frequency": frequency, "monetary": monetary}))
    table = model.summary_table()
    assert list(table.index) == ["p", "q", "gamma"]
    assert (table["standard_error"] > 0).all()
    assert repr(model).startswith("GammaGamma(p=")
    assert model.converged and np.isfinite(model.log_likelihood)


def test_bg_nbd_predictions_refuse_an_unfitted_model():
    with pytest.raises(ValueError, match="not fitted"):
        BetaGeo().p_alive(SUMMARY)
