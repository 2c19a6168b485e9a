"""Calibrated churn classifier for any tabular customer data.

:class:`ChurnModel` compares, on the same stratified 5 folds, an L2-regularised logistic
regression (one-hot, standardised, imputed; ``C`` tuned), a histogram gradient boosting
model with native categorical support, and their blend (mean probability).

Selection follows the one-standard-error rule: the candidate with the best mean fold
ROC-AUC wins only if it beats each simpler candidate (logistic, then boosting, then the
blend) by more than the standard error of their paired per-fold differences; otherwise the
simplest candidate within that margin is kept. Picking the plain maximum over-fitted the
choice to the folds: on data it had not seen the procedure landed below the best single
candidate (``bench/churn_selection.py`` measures it with nested cross-validation).

Calibration never reorders customers: the chosen model is refitted on all rows and a
monotone map learnt on its out-of-fold scores turns scores into probabilities, Platt's
sigmoid or isotonic regression with its flat steps tilted by the raw score (whichever has
the lower cross-validated Brier score). Averaging calibrated fold copies, as
``CalibratedClassifierCV`` does, and isotonic ties both cost ranking (AUC).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, logit
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from tenure.analytics._churn_features import (
    FeatureSpec,
    TreeInput,
    boosting_model,
    logistic_pipeline,
)
from tenure.analytics.churn_trees import tree_contributions

#: Inverse regularisation strengths tried for the logistic regression.
C_GRID = (0.01, 0.1, 1.0, 10.0)
CALIBRATION_BINS = 10
#: Candidates from the simplest to the most complex, the order of the one-SE rule.
CANDIDATES = ("logistic", "gradient_boosting", "blend")
#: Weight of the raw score in an isotonic map: breaks its ties, so the calibrated
#: probabilities keep the model's ranking; small enough not to move the Brier score.
ISOTONIC_TILT = 1e-3


def _target(churned: pd.Series | NDArray[Any], n_rows: int) -> NDArray[np.int64]:
    y = pd.Series(churned)
    if len(y) != n_rows:
        raise ValueError("churned must have one value per feature row")
    if y.isna().any():
        raise ValueError("churned must not have missing values")
    if not (pd.api.types.is_bool_dtype(y) or pd.api.types.is_numeric_dtype(y)):
        raise ValueError("churned must be boolean or 0/1, e.g. df['churn'] == 'Yes'")
    values: NDArray[np.int64] = y.to_numpy().astype(np.int64)
    if not set(np.unique(values)) <= {0, 1}:
        raise ValueError("churned must be boolean or 0/1")
    return values


def _oof(
    estimator: Any, x: pd.DataFrame, y: NDArray[np.int64], folds: list[Any]
) -> NDArray[np.float64]:
    """Out-of-fold probabilities of class 1."""
    out = np.empty(len(y))
    for train, test in folds:
        fitted = clone(estimator).fit(x.iloc[train], y[train])
        out[test] = fitted.predict_proba(x.iloc[test])[:, 1]
    return out


def _logistic_oof(
    spec: FeatureSpec, x: pd.DataFrame, y: NDArray[np.int64], folds: list[Any]
) -> dict[float, NDArray[np.float64]]:
    """Out-of-fold probabilities of the logistic pipeline for each ``C`` of the grid.

    The same as :func:`_oof` per ``C``, with each fold's inputs encoded and scaled once:
    those steps do not depend on ``C``, and refitting them per ``C`` was most of the cost.
    """
    out = {c: np.empty(len(y)) for c in C_GRID}
    for train, test in folds:
        pipeline = logistic_pipeline(spec, C_GRID[0])
        encode, model = pipeline[:-1], pipeline.steps[-1][1]
        z_train = encode.fit_transform(x.iloc[train], y[train])
        z_test = encode.transform(x.iloc[test])
        for c in C_GRID:
            fitted = clone(model).set_params(C=c).fit(z_train, y[train])
            out[c][test] = fitted.predict_proba(z_test)[:, 1]
    return out


class Calibrator:
    """A strictly increasing map from model scores to probabilities."""

    def __init__(self, method: str) -> None:
        if method not in ("isotonic", "sigmoid"):
            raise ValueError("method must be 'isotonic' or 'sigmoid'")
        self.method = method

    def fit(self, scores: NDArray[np.float64], y: NDArray[np.int64]) -> Calibrator:
        if self.method == "isotonic":
            self.isotonic_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            self.isotonic_.fit(scores, y)
        else:
            # Platt scaling on the log-odds, as CalibratedClassifierCV(method="sigmoid").
            self.platt_ = LogisticRegression(C=1e6, max_iter=1000).fit(_log_odds(scores), y)
        return self

    def predict(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.method == "isotonic":
            stepped = self.isotonic_.predict(scores)
            return np.asarray((1 - ISOTONIC_TILT) * stepped + ISOTONIC_TILT * scores)
        return np.asarray(self.platt_.predict_proba(_log_odds(scores))[:, 1])


def _log_odds(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(logit(np.clip(scores, 1e-12, 1 - 1e-12))[:, None])


def _calibrated_oof(
    scores: NDArray[np.float64], y: NDArray[np.int64], folds: list[Any], method: str
) -> NDArray[np.float64]:
    """Cross-validated calibration of out-of-fold scores (same folds)."""
    out = np.empty(len(y))
    for train, test in folds:
        out[test] = Calibrator(method).fit(scores[train], y[train]).predict(scores[test])
    return out


def fold_aucs(
    scores: NDArray[np.float64], y: NDArray[np.int64], folds: list[Any]
) -> NDArray[np.float64]:
    """ROC-AUC of out-of-fold scores within each fold."""
    return np.array([roc_auc_score(y[test], scores[test]) for _, test in folds])


def one_standard_error_choice(per_fold: dict[str, NDArray[np.float64]]) -> str:
    """The simplest candidate not beaten by the best by more than a standard error.

    ``per_fold`` maps candidates, simplest first, to their AUC in each (shared) fold. The
    margin is the standard error of the paired per-fold differences to the best.
    """
    names = list(per_fold)
    best = max(names, key=lambda name: float(per_fold[name].mean()))
    for name in names:
        if name == best:
            return name
        gain = per_fold[best] - per_fold[name]
        margin = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
        if float(gain.mean()) <= margin:
            return name
    return best


def calibration_table(
    predicted: NDArray[np.float64], observed: NDArray[np.int64], bins: int = CALIBRATION_BINS
) -> pd.DataFrame:
    """Mean predicted probability, observed rate and count in equal-width bins of [0, 1]."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": predicted, "observed": observed})
    table = frame.groupby("bin").agg(
        mean_predicted=("predicted", "mean"),
        observed_rate=("observed", "mean"),
        count=("observed", "size"),
    )
    table.index = pd.Index(
        [f"[{edges[i]:.1f}, {edges[i + 1]:.1f})" for i in table.index], name="bin"
    )
    return table


class ChurnModel:
    """Churn probability with reasons, chosen and calibrated by cross-validation.

    Attributes
    ----------
    chosen : str
        ``"logistic"``, ``"gradient_boosting"`` or ``"blend"``, by the one-standard-error
        rule among ``candidates`` (all three unless given).
    calibration : str
        ``"isotonic"`` or ``"sigmoid"``.
    report : dict
        ``cv_roc_auc`` (per candidate), ``chosen``, ``chosen_cv_roc_auc``,
        ``calibrated_cv_roc_auc``, ``logistic_c``, ``brier_uncalibrated``, ``brier``
        (cross-validated, for each calibration method in ``brier_by_method``),
        ``calibration_table`` (DataFrame: mean predicted, observed rate, count per bin of
        the cross-validated calibrated probabilities), ``n_rows``, ``churn_rate``.
    """

    def __init__(
        self,
        *,
        n_splits: int = 5,
        random_state: int = 0,
        n_threads: int | None = 1,
        candidates: tuple[str, ...] = CANDIDATES,
    ) -> None:
        unknown = set(candidates) - set(CANDIDATES)
        if unknown or not candidates:
            raise ValueError(f"candidates must be among {', '.join(CANDIDATES)}")
        self.n_splits = n_splits
        self.random_state = random_state
        # One candidate only fixes the choice: the procedure without its selection, which
        # is how bench/churn_selection.py compares the procedure with each candidate.
        self.candidates = tuple(name for name in CANDIDATES if name in candidates)
        # OpenMP/BLAS threads while fitting and predicting (None: the library default).
        # One by default: churn tables are small enough that threads gain little, and on
        # a busy machine spinning OpenMP threads cost a lot (measured on the telco data
        # with 2 shared, loaded cores: 10 s on one thread, 95 s on two).
        self.n_threads = n_threads
        self.report: dict[str, Any] = {}
        self.chosen = ""
        self.calibration = ""

    def fit(self, features: pd.DataFrame, churned: pd.Series | NDArray[Any]) -> ChurnModel:
        """Select, fit and calibrate the classifier.

        Parameters
        ----------
        features : pandas.DataFrame
            One row per customer; numeric, boolean, categorical, string, datetime columns,
            with missing values as they come. Drop identifiers and row numbers first.
        churned : pandas.Series or array
            Boolean (or 0/1) outcome per row.

        Returns
        -------
        ChurnModel
            ``self``.
        """
        with threadpool_limits(limits=self.n_threads):
            return self._fit(features, churned)

    def _fit(self, features: pd.DataFrame, churned: pd.Series | NDArray[Any]) -> ChurnModel:
        y = _target(churned, len(features))
        minority = int(min(y.sum(), len(y) - y.sum()))
        if minority < 2:
            raise ValueError("churned needs at least 2 churners and 2 non-churners")
        self.spec_ = FeatureSpec.learn(features)
        x = self.spec_.prepare(features)
        splitter = StratifiedKFold(
            min(self.n_splits, minority), shuffle=True, random_state=self.random_state
        )
        folds = list(splitter.split(x, y))

        needs_logistic = self.candidates != ("gradient_boosting",)
        needs_trees = self.candidates != ("logistic",)
        logistic_oof = _logistic_oof(self.spec_, x, y, folds) if needs_logistic else {}
        auc_by_c = {c: float(roc_auc_score(y, p)) for c, p in logistic_oof.items()}
        best_c = max(auc_by_c, key=lambda c: auc_by_c[c]) if needs_logistic else None
        trees = TreeInput(self.spec_, boosting_model(len(y)))
        oof: dict[str, NDArray[np.float64]] = {}
        if best_c is not None:
            oof["logistic"] = logistic_oof[best_c]
        if needs_trees:
            oof["gradient_boosting"] = _oof(trees, x, y, folds)
        if len(oof) == 2:
            oof["blend"] = 0.5 * (oof["logistic"] + oof["gradient_boosting"])
        oof = {name: oof[name] for name in self.candidates}
        auc = {name: float(roc_auc_score(y, p)) for name, p in oof.items()}
        per_fold = {name: fold_aucs(p, y, folds) for name, p in oof.items()}
        self.chosen = one_standard_error_choice(per_fold)

        calibrated = {
            m: _calibrated_oof(oof[self.chosen], y, folds, m) for m in ("isotonic", "sigmoid")
        }
        brier = {m: float(brier_score_loss(y, p)) for m, p in calibrated.items()}
        self.calibration = min(brier, key=lambda m: brier[m])

        # Whole-data fits of the parts: the model (a blend averages both) and explain().
        self.logistic_ = (
            logistic_pipeline(self.spec_, best_c).fit(x, y)
            if best_c is not None and self.chosen != "gradient_boosting"
            else None
        )
        self.trees_ = clone(trees).fit(x, y) if self.chosen != "logistic" else None
        self.calibrator_ = Calibrator(self.calibration).fit(oof[self.chosen], y)
        self.report = {
            "cv_roc_auc": auc,
            "cv_roc_auc_by_fold": {name: [float(v) for v in a] for name, a in per_fold.items()},
            "selection": "one standard error",
            "chosen": self.chosen,
            "chosen_cv_roc_auc": auc[self.chosen],
            "calibrated_cv_roc_auc": float(roc_auc_score(y, calibrated[self.calibration])),
            "logistic_c": best_c,
            "logistic_cv_roc_auc_by_c": auc_by_c,
            "calibration": self.calibration,
            "brier_uncalibrated": float(brier_score_loss(y, oof[self.chosen])),
            "brier_by_method": brier,
            "brier": brier[self.calibration],
            "calibration_table": calibration_table(calibrated[self.calibration], y),
            "n_rows": len(y),
            "churn_rate": float(y.mean()),
        }
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "calibrator_"):
            raise ValueError("the model is not fitted; call fit() first")

    def _scores(self, x: pd.DataFrame) -> NDArray[np.float64]:
        parts = [m.predict_proba(x)[:, 1] for m in (self.logistic_, self.trees_) if m is not None]
        return np.asarray(sum(parts[1:], parts[0]) / len(parts))

    def predict_proba(self, features: pd.DataFrame) -> pd.Series:
        """Calibrated churn probability per row (index of ``features``)."""
        self._check_fitted()
        x = self.spec_.prepare(features)
        with threadpool_limits(limits=self.n_threads):
            proba = self.calibrator_.predict(self._scores(x))
        return pd.Series(proba, index=features.index, name="churn_probability")

    def explain(self, features: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """The ``top`` reasons behind each row's churn risk.

        A reason's ``contribution`` is the change in (uncalibrated) churn probability that
        the feature's value causes compared with a reference customer:

        * logistic part: the feature's log-odds term ``sum_j coef_j * z_j`` (``z`` the
          standardised, one-hot inputs, so 0 is the training mean) is removed, and the
          contribution is ``p - expit(logit(p) - term)``;
        * gradient boosting part: ``p - p'`` where ``p'`` is the prediction with the
          feature set to its training median (numeric) or most frequent level;
        * blend: the mean of the two.

        Parameters
        ----------
        features : pandas.DataFrame
            Rows to explain, with the training columns.
        top : int, default 3
            Reasons per row, by absolute contribution.

        Returns
        -------
        pandas.DataFrame
            Columns ``row`` (index label of ``features``), ``rank``, ``feature``,
            ``value``, ``contribution`` (probability points), ``direction``
            ("raises risk" / "lowers risk"); ``top`` rows per input row.
        """
        return self.predict_and_explain(features, top)[1]

    def predict_and_explain(
        self, features: pd.DataFrame, top: int = 3
    ) -> tuple[pd.Series, pd.DataFrame]:
        """:meth:`predict_proba` and :meth:`explain` of the same rows, the models
        evaluated once for both (the same values as calling the two)."""
        self._check_fitted()
        x = self.spec_.prepare(features)
        parts, scores = [], []
        with threadpool_limits(limits=self.n_threads):
            if self.logistic_ is not None:
                contributions, p = self._logistic_contributions(x)
                parts.append(contributions)
                scores.append(p)
            if self.trees_ is not None:
                threads = self.n_threads or os.cpu_count() or 1
                contributions, p = tree_contributions(self.trees_, x, n_threads=threads)
                parts.append(contributions)
                scores.append(p)
            proba = self.calibrator_.predict(np.asarray(sum(scores[1:], scores[0]) / len(scores)))
        contrib = sum(parts[1:], parts[0]) / len(parts)
        return (
            pd.Series(proba, index=features.index, name="churn_probability"),
            _top_reasons(contrib, features[self.spec_.columns], top),
        )

    def _logistic_contributions(self, x: pd.DataFrame) -> tuple[pd.DataFrame, NDArray[np.float64]]:
        assert self.logistic_ is not None
        columns = self.logistic_.named_steps["columns"]
        z = self.logistic_.named_steps["scale"].transform(columns.transform(x))
        model = self.logistic_.named_steps["model"]
        p = model.predict_proba(z)[:, 1]
        coef = model.coef_[0]
        out = {}
        for i, name in enumerate(self.spec_.columns):
            sl = columns.output_indices_[f"c{i}"]
            term = z[:, sl] @ coef[sl]
            out[name] = p - expit(logit(np.clip(p, 1e-15, 1 - 1e-15)) - term)
        return pd.DataFrame(out, index=x.index), p


_DIRECTIONS = np.array(["lowers risk", "raises risk"], dtype=object)


def _top_reasons(contrib: pd.DataFrame, values: pd.DataFrame, top: int) -> pd.DataFrame:
    if top < 1:
        raise ValueError("top must be at least 1")
    top = min(top, contrib.shape[1])
    matrix = contrib.to_numpy()
    order = np.argsort(-np.abs(matrix), axis=1, kind="stable")[:, :top]
    rows = np.repeat(np.arange(len(contrib)), top)
    cols = order.ravel()
    picked = matrix[rows, cols]
    names = np.asarray(contrib.columns)[cols]
    # Gathered column by column: the whole frame as objects first was most of the cost.
    raw = np.empty(len(rows), dtype=object)
    for j, name in enumerate(contrib.columns):
        at = np.flatnonzero(cols == j)
        column = values[name]
        native = column.dtype.kind in "fiub"
        raw[at] = (column.to_numpy() if native else column.to_numpy(dtype=object))[rows[at]]
    return pd.DataFrame(
        {
            "row": contrib.index.to_numpy()[rows],
            "rank": np.tile(np.arange(1, top + 1), len(contrib)),
            "feature": names,
            "value": raw,
            "contribution": picked,
            # Two shared strings picked per row (numpy's fixed-width text became a
            # new Python string per row in the frame).
            "direction": _DIRECTIONS[(picked >= 0).astype(np.intp)],
        }
    )
