"""Match quality on the FEBRL benchmark files (truth from rec_id, used only to score).

Targets from the duplicate-matching issue, for dataset3 (5,000 records, 6,538 true pairs):
precision >= 0.98 and recall >= 0.95 over automatic plus review pairs, and precision
>= 0.995 for automatic merges alone. Reference: splink's FEBRL3 example reaches recall
0.93 at precision 0.9995 on pairs. Datasets 1 and 2 get floors a little under what the
matcher measured when these tests were written (bench/dedup.py prints the figures).
"""

from __future__ import annotations

import pandas as pd
import pytest

from bench.dedup_truth.febrl import (
    LabelledRecords,
    closed_pairs,
    count_true_pairs,
    febrl_dob_to_iso,
    load_febrl,
    score_pairs,
)
from tenure.dedup.matching import MatchConfig, cluster_pairs, find_duplicates


@pytest.fixture(scope="module", params=[1, 2, 3])
def febrl_run(request: pytest.FixtureRequest) -> tuple[int, LabelledRecords, pd.DataFrame]:
    labelled = load_febrl(request.param)
    return request.param, labelled, find_duplicates(labelled.records)


# (auto precision, all precision, all recall) floors per dataset
FLOORS = {1: (0.995, 0.98, 0.98), 2: (0.995, 0.96, 0.98), 3: (0.995, 0.98, 0.95)}


def test_febrl_pair_quality(febrl_run: tuple[int, LabelledRecords, pd.DataFrame]) -> None:
    number, labelled, pairs = febrl_run
    auto = pairs[pairs["decision"] == "auto"]

    auto_quality = score_pairs(auto["left_id"], auto["right_id"], labelled.entity)
    all_quality = score_pairs(pairs["left_id"], pairs["right_id"], labelled.entity)

    auto_precision, all_precision, all_recall = FLOORS[number]
    assert auto_quality.precision >= auto_precision, str(auto_quality)
    assert all_quality.precision >= all_precision, str(all_quality)
    assert all_quality.recall >= all_recall, str(all_quality)


def test_febrl_clusters_keep_precision(
    febrl_run: tuple[int, LabelledRecords, pd.DataFrame],
) -> None:
    _, labelled, pairs = febrl_run

    clusters = cluster_pairs(
        pairs[pairs["decision"] == "auto"],
        min_score=MatchConfig().auto_threshold,
        record_ids=labelled.records["record_id"],
    )
    left, right = closed_pairs(clusters)

    quality = score_pairs(left, right, labelled.entity)
    assert quality.precision >= 0.99, str(quality)
    assert clusters.max() < len(labelled.records)


def test_truth_counts_match_the_dataset_description() -> None:
    assert count_true_pairs(load_febrl(1).entity) == 500
    assert count_true_pairs(load_febrl(3).entity) == 6538


def test_febrl_dates_are_mapped_to_iso_and_odd_values_kept_or_dropped() -> None:
    assert febrl_dob_to_iso("19560409") == "1956-04-09"
    assert febrl_dob_to_iso("19160017") == "1916-00-17"
    assert febrl_dob_to_iso("1956") is None
    assert febrl_dob_to_iso(float("nan")) is None


def test_the_matcher_never_sees_the_truth() -> None:
    records = load_febrl(1).records

    assert "rec_id" not in records.columns
    assert "soc_sec_id" not in records.columns
    assert records["record_id"].tolist() == list(range(len(records)))
