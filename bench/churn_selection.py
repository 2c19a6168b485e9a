"""Churn model selection judged on data it has not seen: nested cross-validation on telco.

    .venv/bin/python bench/churn_selection.py [--outer 5] [--seed 42]

The whole procedure of :class:`tenure.analytics.ChurnModel` (tune the logistic ``C``,
compare the candidates on inner folds, choose by the one-standard-error rule, calibrate)
is fitted on each outer training part of the IBM telco table and scored on the held-out
part it never saw. Each single candidate (the same procedure with its choice fixed) is
fitted and scored on the same outer folds (stratified, shuffled, ``--seed``). Prints the
outer-fold ROC-AUC of each, their means and the procedure's margin to the best single
candidate (target: at least -0.001).

The refresh's bound on training rows (``TENURE_CHURN_TRAINING_ROWS``, default 4,000,
applied by ``tenure.scores.churn`` before it calls :class:`ChurnModel`) does not apply
here: this bench calls the model directly, on all 7,043 telco customers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from tenure.analytics import ChurnModel
from tenure.analytics.churn import CANDIDATES
from tenure.datasets.files import TELCO_CHURN

TARGET_MARGIN = -0.001


def telco() -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(TELCO_CHURN).drop(columns="rownames")
    churned = frame.pop("churn") == "Yes"
    return frame, churned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outer", type=int, default=5, help="outer folds")
    parser.add_argument("--seed", type=int, default=42, help="seed of the outer folds")
    args = parser.parse_args()

    features, churned = telco()
    y = churned.to_numpy()
    outer = StratifiedKFold(args.outer, shuffle=True, random_state=args.seed)
    contenders: dict[str, tuple[str, ...]] = {"procedure": CANDIDATES}
    contenders.update({name: (name,) for name in CANDIDATES})
    aucs: dict[str, list[float]] = {name: [] for name in contenders}
    chosen: list[str] = []
    started = time.perf_counter()
    for fold, (train, test) in enumerate(outer.split(features, y), start=1):
        for name, candidates in contenders.items():
            model = ChurnModel(candidates=candidates).fit(features.iloc[train], churned.iloc[train])
            proba = model.predict_proba(features.iloc[test])
            aucs[name].append(float(roc_auc_score(y[test], proba)))
            if name == "procedure":
                chosen.append(f"{model.chosen}/{model.calibration}")
        print(
            f"fold {fold}: "
            + "  ".join(f"{name} {values[-1]:.4f}" for name, values in aucs.items())
            + f"  (procedure chose {chosen[-1]})",
            flush=True,
        )

    means = {name: float(np.mean(values)) for name, values in aucs.items()}
    print(f"\nIBM telco, {len(y):,} customers, {args.outer} outer folds, seed {args.seed}")
    print(f"{'':20} {'mean AUC':>9} {'sd':>7}")
    for name, values in aucs.items():
        print(f"{name:20} {means[name]:9.4f} {np.std(values, ddof=1):7.4f}")
    best_single = max(CANDIDATES, key=lambda name: means[name])
    margin = means["procedure"] - means[best_single]
    verdict = "meets" if margin >= TARGET_MARGIN else "MISSES"
    print(
        f"procedure - best single ({best_single}): {margin:+.4f} "
        f"({verdict} the target of >= {TARGET_MARGIN:+.3f}); "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
