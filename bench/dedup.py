"""Duplicate matching benchmark: quality, time and memory on FEBRL 1-3 and a 100k base.

Run: ``.venv/bin/python bench/dedup.py`` (add ``--people 20000`` for a quicker synthetic
run, ``--skip-synthetic`` for FEBRL only). Every workload runs in its own child process so
that its peak resident memory (ru_maxrss) is its own; the figure includes the ~150 MB of
the Python interpreter with pandas and numpy loaded, which is also reported.

For each workload it prints pairwise precision / recall / F1 of:
- ``auto``: the automatic merges alone; ``auto+review``: everything returned;
- ``clusters``: all pairs inside the clusters closed from the automatic pairs;
- ``no guards``: auto and auto+review with the "different given name / birth date" guards
  off (see MatchConfig);
- ``baseline``: the naive exact rule "same first name, last name and date of birth",
measured in the same run, with the matcher's recall and F1 as ratios of it; and the wall
time of the full matcher against the blocking step alone (cleaning + candidate pairs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from dedup_truth.febrl import PairQuality, closed_pairs, load_febrl, score_pairs
from dedup_truth.synthetic import generate_base

from tenure.dedup.matching import MatchConfig, cluster_pairs, match_records
from tenure.dedup.matching.blocking import generate_candidate_pairs
from tenure.dedup.matching.records import prepare_records


@dataclass(frozen=True)
class Figures:
    name: str
    records: int
    candidate_pairs: int
    auto: PairQuality
    everything: PairQuality
    clusters: PairQuality
    unguarded_auto: PairQuality
    unguarded: PairQuality
    baseline: PairQuality
    match_seconds: float
    blocking_seconds: float
    baseline_seconds: float
    peak_rss_mb: float
    start_rss_mb: float


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _exact_baseline(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs with identical (lowercased) first name, last name and date of birth."""
    keys = records[["record_id", "first_name", "last_name", "date_of_birth"]].dropna().copy()
    for column in ("first_name", "last_name"):
        keys[column] = keys[column].str.strip().str.lower()
    merged = keys.merge(keys, on=["first_name", "last_name", "date_of_birth"])
    merged = merged[merged["record_id_x"].astype(str) < merged["record_id_y"].astype(str)]
    return merged["record_id_x"].to_numpy(), merged["record_id_y"].to_numpy()


def _measure(name: str, records: pd.DataFrame, entity: pd.Series) -> Figures:
    start_rss = _rss_mb()
    config = MatchConfig()

    started = time.perf_counter()
    prepared = prepare_records(records)
    generate_candidate_pairs(prepared, config.blocking_rules, max_block_size=config.max_block_size)
    blocking_seconds = time.perf_counter() - started

    started = time.perf_counter()
    result = match_records(records, config)
    match_seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    pairs = result.pairs
    auto = pairs[pairs["decision"] == "auto"]
    clusters = cluster_pairs(auto, min_score=config.auto_threshold, record_ids=records["record_id"])
    unguarded = match_records(
        records,
        MatchConfig(
            review_if_different=frozenset(),
            review_if_several_different=frozenset(),
            reject_if_all_different=frozenset(),
            reject_if_different_and_conflicting=frozenset(),
            reject_if_all_different_unexcused=frozenset(),
            reject_if_only_names_agree=False,
        ),
    ).pairs
    unguarded_auto = unguarded[unguarded["decision"] == "auto"]

    started = time.perf_counter()
    baseline_left, baseline_right = _exact_baseline(records)
    baseline_seconds = time.perf_counter() - started
    return Figures(
        name=name,
        records=len(records),
        candidate_pairs=result.candidate_pairs,
        auto=score_pairs(auto["left_id"], auto["right_id"], entity),
        everything=score_pairs(pairs["left_id"], pairs["right_id"], entity),
        clusters=score_pairs(*closed_pairs(clusters), entity),
        unguarded_auto=score_pairs(unguarded_auto["left_id"], unguarded_auto["right_id"], entity),
        unguarded=score_pairs(unguarded["left_id"], unguarded["right_id"], entity),
        baseline=score_pairs(baseline_left, baseline_right, entity),
        match_seconds=match_seconds,
        blocking_seconds=blocking_seconds,
        baseline_seconds=baseline_seconds,
        peak_rss_mb=peak_rss,
        start_rss_mb=start_rss,
    )


def run_workload(workload: str, people: int) -> Figures:
    if workload.startswith("febrl"):
        labelled = load_febrl(int(workload[-1]))
        return _measure(workload, labelled.records, labelled.entity)
    base = generate_base(people, seed=0)
    return _measure(f"synthetic {people // 1000}k", base.records, base.entity)


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference else "n/a"


def report(figures: Figures) -> None:
    print(
        f"\n== {figures.name}: {figures.records:,} records, "
        f"{figures.candidate_pairs:,} candidate pairs =="
    )
    for label, quality in (
        ("auto", figures.auto),
        ("auto+review", figures.everything),
        ("clusters (auto)", figures.clusters),
        ("no guards: auto", figures.unguarded_auto),
        ("no guards: all", figures.unguarded),
        ("baseline name+dob", figures.baseline),
    ):
        print(f"  {label:<18} {quality}")
    print(
        f"  vs baseline: recall {_ratio(figures.everything.recall, figures.baseline.recall)},"
        f" F1 {_ratio(figures.everything.f1, figures.baseline.f1)},"
        f" auto precision {figures.auto.precision:.4f} vs {figures.baseline.precision:.4f}"
    )
    versus_blocking = _ratio(figures.match_seconds, figures.blocking_seconds)
    print(
        f"  time: match {figures.match_seconds:.2f} s, blocking alone"
        f" {figures.blocking_seconds:.2f} s ({versus_blocking} of blocking),"
        f" exact baseline {figures.baseline_seconds:.2f} s"
    )
    print(
        f"  memory: peak RSS {figures.peak_rss_mb:.0f} MB"
        f" (process held {figures.start_rss_mb:.0f} MB with data loaded before matching)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--skip-synthetic", action="store_true")
    arguments = parser.parse_args()
    workloads = ["febrl1", "febrl2", "febrl3"] + ([] if arguments.skip_synthetic else ["synthetic"])
    context = multiprocessing.get_context("spawn")
    for workload in workloads:
        # A fresh process per workload: ru_maxrss is a high-water mark for the process.
        with context.Pool(1) as pool:
            report(pool.apply(run_workload, (workload, arguments.people)))


if __name__ == "__main__":
    main()
