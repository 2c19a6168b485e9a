"""Benchmark: tenure.analytics against lifetimes 0.11.3 on the CDNOW master log.

Run in the benchmark venv, which has lifetimes next to tenure (see bench/README):

    .venv-bench/bin/python bench/analytics.py [--quick]

Prints, from one run on one machine: fit times of BG/NBD on all 23,570 CDNOW customers
(whole period as calibration) and on 1,000,000 customers resampled with replacement from
them, of Pareto/NBD on the 23,570, the speed-up ratios, the largest relative difference of
the fitted parameters, the log-likelihood gain of tenure's estimates over lifetimes' (both
scored by the same likelihood), and the time of rfm_summary on a 10-million-row synthetic
log. Times are the best of 3 runs for tenure and of 1 run for lifetimes on the large fits,
one thread each. ``--quick`` resamples 100,000 customers and summarises 2M rows instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

# One thread each for a fair, single-core comparison (set before numpy loads).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from tenure.analytics import BetaGeo, ParetoNBD, rfm_summary
from tenure.datasets.files import open_cdnow_master


def load_master() -> pd.DataFrame:
    with open_cdnow_master() as handle:
        frame = pd.read_csv(
            handle,
            sep=r"\s+",
            header=0,  # the file starts with a header line
            names=["customer_id", "date", "cds", "amount"],
            dtype={"date": str},
        )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def max_rel_diff(ours: dict[str, float], theirs: dict[str, float]) -> float:
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in ours)


def lifetimes_fitters() -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, ParetoNBDFitter
    return BetaGeoFitter, ParetoNBDFitter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="resample 100k, not 1M")
    args = parser.parse_args()
    n_big = 100_000 if args.quick else 1_000_000
    lt_bgnbd, lt_pareto = lifetimes_fitters()
    warnings.simplefilter("ignore")  # lifetimes' own deprecation noise on new pandas

    log = load_master()
    summary = rfm_summary(log, observation_end=log["date"].max(), amount=None)
    rng = np.random.default_rng(2024)
    big = summary.iloc[rng.integers(0, len(summary), n_big)].reset_index(drop=True)
    rows: list[tuple[str, int, float, float, float, float, float]] = []

    def compare(name: str, data: pd.DataFrame, ours_fn: Callable[[], Any],
                theirs_fn: Callable[[], Any], repeat: int) -> None:  # fmt: skip
        n = len(data)
        t_ours, ours = timed(ours_fn, repeat=max(repeat, 3))
        t_theirs, theirs = timed(theirs_fn, repeat=repeat)
        theirs_params = {k: float(v) for k, v in theirs.params_.items()}
        diff = max_rel_diff(ours.params, theirs_params)
        # Both parameter sets scored by the same (tenure) likelihood on the same data.
        at_theirs = type(ours)()
        at_theirs.params = theirs_params
        ll_gap = float(
            ours.individual_log_likelihood(data).sum()
            - at_theirs.individual_log_likelihood(data).sum()
        )
        rows.append((name, n, t_ours, t_theirs, t_theirs / t_ours, diff, ll_gap))
        print(f"{name}: tenure {ours.params}")
        print(f"{' ' * len(name)}  lifetimes {theirs_params}", flush=True)

    cols = (summary["frequency"], summary["recency"], summary["T"])
    big_cols = (big["frequency"], big["recency"], big["T"])
    compare(
        "BG/NBD, CDNOW master",
        summary,
        lambda: BetaGeo().fit(summary),
        lambda: lt_bgnbd().fit(*cols),
        3,
    )
    compare(
        f"BG/NBD, {n_big:,} resampled",
        big,
        lambda: BetaGeo().fit(big),
        lambda: lt_bgnbd().fit(*big_cols),
        1,
    )
    compare(
        "Pareto/NBD, CDNOW master",
        summary,
        lambda: ParetoNBD().fit(summary),
        lambda: lt_pareto().fit(*cols),
        1,
    )

    n_log = 2_000_000 if args.quick else 10_000_000
    synthetic = pd.DataFrame(
        {
            "customer_id": rng.integers(0, n_log // 10, n_log),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 730, n_log), "D"),
            "amount": rng.gamma(2.0, 20.0, n_log),
        }
    )
    t_rfm, rfm = timed(
        lambda: rfm_summary(synthetic, calibration_end="2021-06-30", observation_end="2021-12-31")
    )

    print()
    print(f"{'task':32} {'customers':>10} {'tenure s':>9} {'lifetimes s':>12} {'ratio':>7} "
          f"{'max param diff':>15} {'LL gain':>9}")  # fmt: skip
    for name, n, ours_s, theirs_s, ratio, diff, gap in rows:
        print(f"{name:32} {n:>10,} {ours_s:>9.3f} {theirs_s:>12.3f} {ratio:>6.1f}x {diff:>15.1e} "
              f"{gap:>9.4f}")  # fmt: skip
    print("LL gain: tenure's log-likelihood minus that of lifetimes' estimates (same data).")
    print(f"\nrfm_summary of {n_log:,} transactions ({len(rfm):,} customers, calibration "
          f"split): {t_rfm:.2f} s")  # fmt: skip
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")


if __name__ == "__main__":
    main()
