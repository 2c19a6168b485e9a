"""What a scan would do, in words a person can check before confirming it.

A dry run (``scan_duplicates(dry_run=True)``) decides every pair and writes nothing;
:func:`merge_sample` picks the automatic merges to show with their evidence, the least
certain first: those are the ones a person should look at before saying yes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tenure.dedup.review import evidence_rows
from tenure.dedup.scan import ScanReport

SAMPLE_SIZE = 20


def merge_sample(report: ScanReport, size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """Up to ``size`` automatic merges of ``report``, lowest score first, each with both
    people's ids and names, the score and the per-field evidence (label, words, weight)."""
    pairs = report.pairs
    if pairs.empty:
        return []
    auto = pairs[pairs["decision"] == "auto"].sort_values("score", kind="stable").head(size)
    names = report.meta["name"]
    return [
        {
            "left": {"id": int(left), "name": str(names.get(left, ""))},
            "right": {"id": int(right), "name": str(names.get(right, ""))},
            "score": float(score),
            "evidence": evidence_rows(evidence),
        }
        for left, right, score, evidence in zip(
            auto["left_id"], auto["right_id"], auto["score"], auto["evidence"], strict=True
        )
    ]


def merges_planned(report: ScanReport) -> int:
    """People the scan would merge away: per automatic cluster, its members but one. (A
    cluster of three is two merges but may be three pairs, so pairs over-count.)"""
    pairs = report.pairs
    if pairs.empty or "cluster" not in pairs:
        return 0
    auto = pairs[pairs["cluster"] >= 0]
    members = pd.concat([auto["left_id"], auto["right_id"]]).nunique()
    return int(members - auto["cluster"].nunique())


def preview_dict(report: ScanReport, size: int = SAMPLE_SIZE) -> dict[str, Any]:
    """The counts a person confirms, and the sample of merges."""
    return {
        "people": report.people,
        "merges": merges_planned(report),
        "auto_pairs": report.auto_pairs,
        "review_pairs": report.review_pairs,
        "dismissed_skipped": report.dismissed_skipped,
        "merge_sample": merge_sample(report, size),
    }
