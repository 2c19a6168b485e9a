"""ChurnModel on the IBM telco data and on awkward synthetic tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from tenure.analytics import ChurnModel
from tenure.analytics.churn import one_standard_error_choice, tree_contributions


@pytest.fixture(scope="module")
def telco_model(telco: tuple[pd.DataFrame, pd.Series]) -> ChurnModel:
    features, churned = telco
    return ChurnModel().fit(features, churned)


def test_telco_cross_validated_auc_and_brier(telco_model: ChurnModel) -> None:
    # Target from the issue: stratified 5-fold ROC-AUC >= 0.845 on the IBM telco data,
    # where plain logistic regression reaches 0.845 and HistGradientBoosting 0.834.
    report = telco_model.report
    assert report["chosen_cv_roc_auc"] >= 0.845
    assert report["calibrated_cv_roc_auc"] >= 0.845
    assert set(report["cv_roc_auc"]) == {"logistic", "gradient_boosting", "blend"}
    assert report["chosen"] == one_standard_error_choice(
        {name: np.array(aucs) for name, aucs in report["cv_roc_auc_by_fold"].items()}
    )
    assert report["selection"] == "one standard error"
    # Brier of a 26.5% base rate predicted as a constant is 0.195; calibrated models
    # measure about 0.134.
    assert report["brier"] < 0.14
    assert report["calibration"] in {"isotonic", "sigmoid"}
    np.testing.assert_allclose(report["churn_rate"], 1869 / 7043, rtol=1e-12)


def test_calibration_table_is_consistent(telco_model: ChurnModel) -> None:
    table = telco_model.report["calibration_table"]
    assert list(table.columns) == ["mean_predicted", "observed_rate", "count"]
    assert table["count"].sum() == 7043
    # calibrated: each well-populated bin's observed rate is near its mean prediction
    big = table[table["count"] >= 300]
    np.testing.assert_allclose(big["observed_rate"], big["mean_predicted"], atol=0.05)


def test_predictions_and_reasons(
    telco_model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series]
) -> None:
    features, _ = telco
    rows = features.iloc[:20]
    proba = telco_model.predict_proba(rows)
    assert proba.index.equals(rows.index)
    assert ((proba >= 0) & (proba <= 1)).all()
    reasons = telco_model.explain(rows, top=3)
    assert len(reasons) == 60
    assert list(reasons.columns) == [
        "row", "rank", "feature", "value", "contribution", "direction",
    ]  # fmt: skip
    assert set(reasons["feature"]) <= set(features.columns)
    first = reasons[reasons["row"] == rows.index[0]]
    assert list(first["rank"]) == [1, 2, 3]
    assert (np.diff(first["contribution"].abs().to_numpy()) <= 0).all()
    # row 0 is a one-month, month-to-month customer: short tenure raises the risk
    assert "tenure" in set(first["feature"])
    assert first.loc[first["feature"] == "tenure", "direction"].item() == "raises risk"


def _synthetic(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    usage = rng.gamma(2.0, 5.0, n)
    plan = rng.choice(["basic", "plus", "pro"], n)
    region = pd.Categorical(rng.choice(["north", "south", "east", "west"], n))
    autopay = rng.random(n) < 0.5
    signup = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    logit = 1.0 - 0.15 * usage + 1.2 * (plan == "basic") - 0.8 * autopay
    churned = pd.Series(rng.random(n) < 1 / (1 + np.exp(-logit)))
    features = pd.DataFrame(
        {
            "usage": usage,
            "plan": plan,
            "region": region,
            "autopay": autopay,
            "signup": signup,
            "notes": pd.Series(rng.choice(["a", None], n), dtype=object),
            "empty": np.nan,
        }
    )
    features.loc[rng.random(n) < 0.1, "usage"] = np.nan
    return features, churned


def test_mixed_types_missing_values_and_unseen_levels() -> None:
    features, churned = _synthetic(1500, 3)
    model = ChurnModel().fit(features, churned)
    assert model.report["chosen_cv_roc_auc"] > 0.7
    new = features.iloc[:5].copy()
    new.loc[new.index[0], "plan"] = "enterprise"  # unseen level
    new.loc[new.index[1], "usage"] = np.nan
    proba = model.predict_proba(new)
    assert np.isfinite(proba).all()
    assert "empty" not in set(model.explain(new, top=2)["feature"])


def test_tree_contributions_equal_a_prediction_per_feature() -> None:
    # Given boosted trees fitted on mixed types, and rows with missing values, an unseen
    # level and values equal to the reference
    features, churned = _synthetic(1500, 5)
    model = ChurnModel(candidates=("gradient_boosting",)).fit(features, churned)
    trees, spec = model.trees_, model.spec_
    assert trees is not None
    rows = spec.prepare(features.iloc[:300])
    rows.iloc[0, rows.columns.get_loc("plan")] = "enterprise"
    rows.iloc[1, rows.columns.get_loc("usage")] = np.nan
    rows.iloc[2, rows.columns.get_loc("usage")] = spec.reference["usage"]

    # (categorical splits among them)
    predictors = [iteration[0] for iteration in trees.model_._predictors]
    assert any(p.nodes["is_categorical"][p.nodes["is_leaf"] == 0].any() for p in predictors)

    # When contributions are computed from the trees' split answers, in blocks of rows
    fast, p_fast = tree_contributions(trees, rows, block_rows=64)

    # Then they are those of predicting once per feature with the feature at its reference
    p = trees.predict_proba(rows)[:, 1]
    np.testing.assert_array_equal(p_fast, p)
    for name in spec.columns:
        changed = rows.copy()
        changed[name] = spec.reference[name]
        np.testing.assert_allclose(
            fast[name], p - trees.predict_proba(changed)[:, 1], atol=1e-12, err_msg=name
        )
    assert (fast.abs().to_numpy() > 0).any()
    assert fast.loc[rows.index[2], "usage"] == 0.0


def test_the_feature_that_decides_churn_is_the_first_reason() -> None:
    # Given customers who churn when (and only when) they have not bought for 60 days,
    # with two features that say nothing
    rng = np.random.default_rng(11)
    n = 2000
    features = pd.DataFrame(
        {
            "recency_days": rng.integers(0, 120, n).astype(float),
            "noise": rng.normal(size=n),
            "plan": rng.choice(["basic", "plus"], n),
        }
    )
    churned = features["recency_days"] > 60
    model = ChurnModel(candidates=("gradient_boosting",)).fit(features, churned)

    # When the risk of long-lapsed and of recent customers is explained
    rows = pd.DataFrame({"recency_days": [110.0, 5.0], "noise": [0.1, -0.2], "plan": "plus"})
    proba, reasons = model.predict_and_explain(rows, top=3)

    # Then the lapse is the lapsed customer's first reason, raising the risk, by far
    # more than anything else; nothing moves the recent customer's risk much (the
    # reference, the median recency, is on the same side of the 60 days)
    assert proba.iloc[0] > 0.9 > 0.1 > proba.iloc[1]
    lapsed = reasons[reasons["row"] == 0].set_index("rank")
    assert (lapsed.loc[1, "feature"], lapsed.loc[1, "direction"]) == ("recency_days", "raises risk")
    assert lapsed.loc[1, "contribution"] > 0.5
    assert (lapsed.loc[[2, 3], "contribution"].abs() < 0.05).all()
    recent = reasons[reasons["row"] == 1]
    assert (recent["contribution"].abs() < 0.05).all()


def test_predict_and_explain_is_predict_proba_and_explain() -> None:
    features, churned = _synthetic(1200, 8)
    rows = features.iloc[:200]
    for candidate in ("logistic", "gradient_boosting", "blend"):
        model = ChurnModel(candidates=(candidate,)).fit(features, churned)
        proba, reasons = model.predict_and_explain(rows, top=2)
        pd.testing.assert_series_equal(proba, model.predict_proba(rows))
        pd.testing.assert_frame_equal(reasons, model.explain(rows, top=2))


def test_bad_input_is_refused(telco_model: ChurnModel) -> None:
    features, churned = _synthetic(50, 1)
    with pytest.raises(ValueError, match="boolean"):
        ChurnModel().fit(features, churned.map({True: "Yes", False: "No"}))
    with pytest.raises(ValueError, match="at least 2"):
        ChurnModel().fit(features, pd.Series([False] * 49 + [True]))
    with pytest.raises(ValueError, match="not fitted"):
        ChurnModel().predict_proba(features)
    with pytest.raises(ValueError, match="missing column"):
        telco_model.predict_proba(features)


def test_calibration_keeps_the_ranking_of_the_scores(
    telco_model: ChurnModel, telco: tuple[pd.DataFrame, pd.Series]
) -> None:
    # A monotone map with ties (plain isotonic) or an average of calibrated fold copies
    # reorders customers; the model's probabilities rank exactly as its raw scores.
    features, _ = telco
    x = telco_model.spec_.prepare(features)
    raw = telco_model._scores(x)
    calibrated = telco_model.predict_proba(features).to_numpy()
    np.testing.assert_array_equal(rankdata(raw), rankdata(calibrated))


def test_one_standard_error_rule_prefers_the_simpler_candidate() -> None:
    # Boosting wins on average, but by less than the spread of its per-fold gains.
    close = {
        "logistic": np.array([0.84, 0.85, 0.83, 0.86, 0.84]),
        "gradient_boosting": np.array([0.85, 0.84, 0.85, 0.85, 0.85]),
    }
    assert one_standard_error_choice(close) == "logistic"
    # The same mean gain in every fold is a consistent win.
    steady = {
        "logistic": np.array([0.84, 0.85, 0.83, 0.86, 0.84]),
        "gradient_boosting": np.array([0.845, 0.855, 0.835, 0.865, 0.845]),
    }
    assert one_standard_error_choice(steady) == "gradient_boosting"
    # Among three, the simplest within the margin of the best is kept.
    three = {
        "logistic": np.array([0.70, 0.71, 0.69, 0.70, 0.70]),
        "gradient_boosting": np.array([0.80, 0.81, 0.79, 0.80, 0.80]),
        "blend": np.array([0.81, 0.80, 0.80, 0.80, 0.80]),
    }
    assert one_standard_error_choice(three) == "gradient_boosting"


def test_a_fixed_candidate_is_the_procedure_without_its_choice() -> None:
    features, churned = _synthetic(600, 5)
    model = ChurnModel(candidates=("gradient_boosting",)).fit(features, churned)
    assert model.chosen == "gradient_boosting"
    assert set(model.report["cv_roc_auc"]) == {"gradient_boosting"}
    assert model.logistic_ is None and model.trees_ is not None
    with pytest.raises(ValueError, match="candidates"):
        ChurnModel(candidates=("forest",))
