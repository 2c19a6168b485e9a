"""Scoring a duplicate scan of the demo workspace against the truth the demo carries.

Every demo person keeps the ``cdnow_customer_id`` attribute of the CDNOW customer it was
generated for, and a duplicate the demo plants on purpose keeps the id of the customer it
duplicates. Two people are one customer exactly when their ids are equal, so anyone can
score a scan from the database. The matcher never reads this attribute (``dedup.frame``
loads names, identifiers, addresses and birthdays only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Person

TRUTH_ATTRIBUTE = "cdnow_customer_id"


@dataclass(frozen=True)
class DemoScanQuality:
    people: int
    auto_pairs: int  # pairs the matcher decided "auto"
    auto_merges: int  # pairs of people a real scan would make one (closed over clusters)
    wrong_auto_merges: int  # of those, two distinct customers
    review_pairs: int
    planted_pairs: int  # pairs of records of one customer (the planted duplicates)
    planted_found: int  # of those, merged automatically or queued for review

    @property
    def auto_merge_precision(self) -> float:
        if not self.auto_merges:
            return 1.0
        return 1.0 - self.wrong_auto_merges / self.auto_merges

    @property
    def review_share(self) -> float:
        return self.review_pairs / max(self.people, 1)

    @property
    def planted_recall(self) -> float:
        return self.planted_found / self.planted_pairs if self.planted_pairs else 1.0


def demo_truth(session: Session) -> pd.Series:
    """Person id -> CDNOW customer id, for every person that has one."""
    key = Person.attributes[TRUTH_ATTRIBUTE].as_string()
    # In id order: a planted duplicate (created after its customer) is the one
    # ``duplicated()`` marks, whatever order the database keeps updated rows in.
    rows = session.execute(select(Person.id, key).where(key.is_not(None)).order_by(Person.id)).all()
    return pd.Series(
        [int(value) for _, value in rows], index=[pid for pid, _ in rows], dtype=np.int64
    )


def _pair_keys(left: np.ndarray, right: np.ndarray) -> set[tuple[int, int]]:
    low, high = np.minimum(left, right), np.maximum(left, right)
    return set(zip(low.tolist(), high.tolist(), strict=True))


def _closed_auto_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Every pair of people inside each automatic cluster (what a real scan merges)."""
    if "cluster" not in pairs.columns:
        return pd.DataFrame({"left": [], "right": []}, dtype=np.int64)
    auto = pairs[pairs["cluster"] >= 0]
    members = pd.concat(
        [
            auto[["cluster", "left_id"]].rename(columns={"left_id": "person"}),
            auto[["cluster", "right_id"]].rename(columns={"right_id": "person"}),
        ]
    ).drop_duplicates()
    closed = members.merge(members, on="cluster")
    closed = closed[closed["person_x"] < closed["person_y"]]
    return pd.DataFrame(
        {"left": closed["person_x"].to_numpy(np.int64), "right": closed["person_y"].to_numpy()}
    )


def score_demo_scan(pairs: pd.DataFrame, truth: pd.Series, people: int) -> DemoScanQuality:
    """Score a scan's planned pairs (``ScanReport.pairs``: left_id, right_id, decision,
    cluster) against ``truth`` (``demo_truth``)."""
    merged = _closed_auto_pairs(pairs)
    left_truth = truth.reindex(merged["left"]).to_numpy()
    right_truth = truth.reindex(merged["right"]).to_numpy()
    wrong = int(np.count_nonzero(left_truth != right_truth))

    groups = pd.DataFrame({"person": truth.index.to_numpy(), "customer": truth.to_numpy()})
    groups = groups[groups.duplicated("customer", keep=False)]
    planted = groups.merge(groups, on="customer")
    planted = planted[planted["person_x"] < planted["person_y"]]
    found = _pair_keys(
        pairs["left_id"].to_numpy(np.int64), pairs["right_id"].to_numpy(np.int64)
    ) | _pair_keys(merged["left"].to_numpy(np.int64), merged["right"].to_numpy(np.int64))
    planted_keys = _pair_keys(
        planted["person_x"].to_numpy(np.int64), planted["person_y"].to_numpy(np.int64)
    )
    auto = pairs["decision"] == "auto"
    return DemoScanQuality(
        people=people,
        auto_pairs=int(auto.sum()),
        auto_merges=len(merged),
        wrong_auto_merges=wrong,
        review_pairs=int((~auto).sum()),
        planted_pairs=len(planted_keys),
        planted_found=len(planted_keys & found),
    )
