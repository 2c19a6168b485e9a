"""Duplicates across the whole customer base: load, match, merge the certain, queue the rest.

:func:`scan_duplicates` loads every person into the matcher's record frame
(``dedup_frame.load_base``, SQL only), runs the matcher and decides each pair with
:func:`plan_pairs`: a pair a person dismissed is never proposed again; a pair already in
the queue (or merged once and undone) stays for a person to decide; "auto" pairs are
closed into clusters with the matcher's chaining guard (at most 10 records; a cluster
holding a dismissed pair goes to review whole) and each cluster merges into its oldest
member (``merge_batch``, 500 clusters per transaction). Everything else is queued for
review. A dry run stops after planning and writes nothing but its audit entry. A real
scan is one merge run (``dedup.runs``): its merges carry the run's id, and the run undoes
as a whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.bulk import insert_rows
from tenure.db.session import unit_of_work
from tenure.db.statistics import analyze_after_load
from tenure.db.types import utcnow
from tenure.dedup.frame import load_base
from tenure.dedup.matching import MatchConfig, cluster_pairs, match_records
from tenure.dedup.merge import resolve_fields
from tenure.dedup.merge_batch import Cluster, merge_clusters
from tenure.dedup.models import CandidateStatus, DuplicateCandidate
from tenure.dedup.runs import finish_run, start_run
from tenure.errors import NotFound
from tenure.identity.audit import record_audit
from tenure.ingest.writes import table_of

Progress = Callable[[str, int, int], object]  # (step, done, total)

MAX_CLUSTER_SIZE = 10  # the matcher's chaining guard: larger clusters are split
# Clusters merged per transaction. A batch costs about 40 statements whatever its size
# (measured: 393 merges in 1.3 s on SQLite, against 10 s merged one by one); a batch
# that fails is retried cluster by cluster.
CLUSTERS_PER_TRANSACTION = 500


def _known_pairs(session: Session) -> dict[tuple[int, int], tuple[int, str]]:
    rows = session.execute(
        select(
            DuplicateCandidate.left_id,
            DuplicateCandidate.right_id,
            DuplicateCandidate.id,
            DuplicateCandidate.status,
        )
    )
    return {(left, right): (cid, status) for left, right, cid, status in rows}


def plan_pairs(
    found: pd.DataFrame, known: dict[tuple[int, int], tuple[int, str]]
) -> tuple[pd.DataFrame, int]:
    """The matcher's pairs with the decision a scan takes, and how many were dismissed
    before (left out). Adds ``cluster`` (auto pairs: which merge group, else -1)."""
    pairs = found.copy()
    a, b = pairs["left_id"].astype(np.int64), pairs["right_id"].astype(np.int64)
    pairs["left_id"], pairs["right_id"] = np.minimum(a, b), np.maximum(a, b)
    status = pd.Series(
        [
            known.get((int(x), int(y)), (0, ""))[1]
            for x, y in zip(pairs["left_id"], pairs["right_id"], strict=True)
        ],
        index=pairs.index,
        dtype=object,
    )
    dismissed = status == CandidateStatus.dismissed.value
    pairs = pairs[~dismissed].copy()
    status = status[~dismissed]
    known_before = (status != "") & (pairs["decision"] == "auto")
    pairs.loc[status != "", "decision"] = "review"
    _explain(pairs, known_before, "a person has seen this pair before (or undid its merge)")
    pairs["cluster"] = -1
    auto = pairs["decision"] == "auto"
    if auto.any():
        clusters = cluster_pairs(pairs[auto], min_score=0.0, max_cluster_size=MAX_CLUSTER_SIZE)
        left = clusters.reindex(pairs.loc[auto, "left_id"]).to_numpy()
        right = clusters.reindex(pairs.loc[auto, "right_id"]).to_numpy()
        split = left != right
        cluster = np.where(split, -1, left)
        # A cluster holding a pair a person dismissed, or a pair that conflicts on a
        # strong identifier (father and son of one name at one address, both matched by
        # a third record), is two people: it goes to review whole.
        separate = [(x, y) for (x, y), (_, status) in known.items() if status == "dismissed"] + [
            (int(x), int(y))
            for x, y, evidence in zip(
                pairs["left_id"], pairs["right_id"], pairs["evidence"], strict=True
            )
            if isinstance(evidence, dict) and evidence.get("decision", {}).get("conflict")
        ]
        blocked = {
            int(clusters[x])
            for x, y in separate
            if x in clusters.index and y in clusters.index and clusters[x] == clusters[y]
        }
        cluster = np.where(np.isin(cluster, list(blocked)), -1, cluster)
        pairs.loc[auto, "cluster"] = cluster
        demoted = auto & (pairs["cluster"] == -1)
        pairs.loc[demoted, "decision"] = "review"
        _explain(
            pairs,
            demoted,
            "its group of records is too large to merge blindly, or holds a pair dismissed "
            "before or one that conflicts on a strong identifier",
        )
    return pairs.reset_index(drop=True), int(dismissed.sum())


def _explain(pairs: pd.DataFrame, rows: pd.Series, reason: str) -> None:
    """Say in the evidence why the scan queues a pair the matcher would have merged."""
    if not rows.any():
        return
    values: list[Any] = pairs["evidence"].tolist()
    for position in np.flatnonzero(rows.to_numpy()).tolist():
        evidence: dict[str, Any] = dict(values[position])
        evidence["decision"] = {
            **evidence.get("decision", {"weight": 0.0}),
            "level": f"review, not merged automatically: {reason}",
        }
        values[position] = evidence
    pairs["evidence"] = pd.Series(values, index=pairs.index, dtype=object)


@dataclass
class ScanReport:
    dry_run: bool
    people: int = 0
    compared_pairs: int = 0
    auto_pairs: int = 0
    review_pairs: int = 0
    dismissed_skipped: int = 0
    merged: int = 0
    queued: int = 0
    merge_failures: int = 0
    run_id: int | None = None  # the merge run of a real scan
    seconds: dict[str, float] = field(default_factory=dict)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: pd.DataFrame = field(default_factory=pd.DataFrame)

    def counts(self) -> dict[str, Any]:
        names = ("people", "compared_pairs", "auto_pairs", "review_pairs", "dismissed_skipped")
        counts: dict[str, Any] = {name: getattr(self, name) for name in names}
        counts.update(merged=self.merged, queued=self.queued, merge_failures=self.merge_failures)
        return counts


def _store_candidates(
    session: Session, pairs: pd.DataFrame, known: dict[tuple[int, int], tuple[int, str]]
) -> int:
    """New pairs inserted pending; known pairs (never dismissed ones: plan_pairs left
    those out) refreshed with the new score and evidence, and pending again. Returns how
    many new pairs joined the review queue."""
    now = utcnow()
    new_rows, refreshed = [], []
    columns_in_order = zip(
        pairs["left_id"].tolist(),
        pairs["right_id"].tolist(),
        pairs["score"].tolist(),
        pairs["decision"].tolist(),
        pairs["evidence"].tolist(),
        strict=True,
    )
    for left, right, score, decision, evidence in columns_in_order:
        key = (int(left), int(right))
        values = (float(score), str(decision), evidence)
        if key in known:
            # Pending: refreshed. Stale or merged yet both people are in the base again (an
            # undo, or SQLite giving a merged-away id to a new person): back to pending.
            cid, _ = known[key]
            refreshed.append({"cid": cid, "s": values[0], "d": values[1], "e": values[2]})
        else:
            new_rows.append((*key, *values, CandidateStatus.pending.value, now))
    table = table_of(DuplicateCandidate)
    columns = ("left_id", "right_id", "score", "decision", "evidence", "status", "found_at")
    insert_rows(session.connection(), table, columns, new_rows)
    if refreshed:
        statement = (
            update(table)
            # A person may have dismissed the pair while this scan was matching.
            .where(table.c.id == bindparam("cid"), table.c.status != "dismissed")
            .values(
                score=bindparam("s"),
                decision=bindparam("d"),
                evidence=bindparam("e"),
                status=CandidateStatus.pending.value,
                merge_id=None,
                resolved_at=None,
                resolved_by_id=None,
            )
        )
        session.connection().execute(statement, refreshed)
    # Auto pairs are stored too (the merge marks them merged): only review pairs queue.
    return sum(1 for row in new_rows if row[3] == "review")


def _clusters(pairs: pd.DataFrame, meta: pd.DataFrame) -> list[Cluster]:
    """The auto clusters, each with its oldest member first: the survivor."""
    auto = pairs[pairs["cluster"] >= 0]
    if auto.empty:
        return []
    members = pd.concat(
        [
            auto[["cluster", "left_id"]].rename(columns={"left_id": "person"}),
            auto[["cluster", "right_id"]].rename(columns={"right_id": "person"}),
        ]
    ).drop_duplicates()
    members["born"] = meta["created_at"].reindex(members["person"]).to_numpy()
    members = members.sort_values(["cluster", "born", "person"], kind="stable")
    scores = auto.groupby("cluster")["score"].min()
    clusters: list[Cluster] = []
    # One pass over sorted arrays: a groupby loop cost 5 ms a cluster (22 s for 4,000).
    labels, people = members["cluster"].to_numpy(), members["person"].to_numpy()
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    for start, end in zip(starts, [*starts[1:], len(labels)], strict=True):
        survivor, *losers = (int(p) for p in people[start:end])
        clusters.append((survivor, losers, float(scores[labels[start]])))
    return clusters


def _to_store(
    pairs: pd.DataFrame,
    clusters: list[Cluster],
    known: dict[tuple[int, int], tuple[int, str]],
) -> pd.DataFrame:
    """Auto pairs as found (the merges mark them merged); review pairs re-pointed to the
    survivor of a person this scan merges away, so that they are in the queue now rather
    than after the next scan (a pair inside one cluster, or dismissed before, drops out)."""
    survivor_of = {loser: survivor for survivor, losers, _ in clusters for loser in losers}
    review = pairs[pairs["cluster"] < 0].copy()
    left = review["left_id"].map(lambda p: survivor_of.get(int(p), int(p)))
    right = review["right_id"].map(lambda p: survivor_of.get(int(p), int(p)))
    review["left_id"], review["right_id"] = np.minimum(left, right), np.maximum(left, right)
    review = review[review["left_id"] != review["right_id"]]
    review = review.sort_values("score", ascending=False, kind="stable")
    review = review.drop_duplicates(["left_id", "right_id"])
    dismissed = [
        known.get((int(x), int(y)), (0, ""))[1] == CandidateStatus.dismissed.value
        for x, y in zip(review["left_id"], review["right_id"], strict=True)
    ]
    return pd.concat([pairs[pairs["cluster"] >= 0], review[~np.array(dismissed, dtype=bool)]])


def _merge_clusters(
    session_factory: sessionmaker[Session],
    clusters: list[Cluster],
    actor_id: int | None,
    progress: Progress | None,
    run_id: int | None = None,
) -> tuple[int, int]:
    """Merge every auto cluster into its oldest member; returns (merges, failures)."""
    total = sum(len(losers) for _, losers, _ in clusters)
    merged = failures = 0
    for start in range(0, len(clusters), CLUSTERS_PER_TRANSACTION):
        batch = clusters[start : start + CLUSTERS_PER_TRANSACTION]
        with unit_of_work(session_factory) as session:
            try:
                with session.begin_nested():
                    merged += len(_merge(session, batch, actor_id, run_id))
            except (NotFound, IntegrityError):
                # Someone deleted, merged or changed one of these people since the scan
                # read them: merge cluster by cluster, and leave the failures queued.
                for cluster in batch:
                    try:
                        with session.begin_nested():
                            merged += len(_merge(session, [cluster], actor_id, run_id))
                    except (NotFound, IntegrityError):
                        failures += len(cluster[1])
        if progress:
            progress("Merging", merged + failures, total)
    return merged, failures


def _merge(
    session: Session, clusters: list[Cluster], actor_id: int | None, run_id: int | None
) -> list[int]:
    return merge_clusters(
        session=session,
        clusters=clusters,
        actor_id=actor_id,
        source="auto",
        resolve=resolve_fields,
        run_id=run_id,
    )


#: What a scan's merges and queue rewrite.
MERGED_TABLES = (
    "people",
    "identities",
    "events",
    "person_stages",
    "person_tags",
    "merges",
    "duplicate_candidates",
)


def scan_duplicates(
    *,
    session_factory: sessionmaker[Session],
    actor_id: int | None,
    dry_run: bool = False,
    config: MatchConfig = MatchConfig(),
    progress: Progress | None = None,
) -> ScanReport:
    """Find duplicates over the whole base; unless ``dry_run``, merge and queue them."""
    report = ScanReport(dry_run=dry_run)
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = round(now - clock, 3)
        clock = now

    if progress:
        progress("Loading people", 0, 1)
    with session_factory() as session:
        base = load_base(session)
        known = _known_pairs(session)
    report.people, report.meta = len(base.records), base.meta
    step("load")
    if progress:
        progress("Matching", 0, 1)
    result = match_records(base.records, config)
    report.compared_pairs = result.candidate_pairs
    step("match")
    pairs, report.dismissed_skipped = plan_pairs(result.pairs, known)
    report.pairs = pairs
    report.auto_pairs = int((pairs["decision"] == "auto").sum())
    report.review_pairs = len(pairs) - report.auto_pairs
    step("plan")
    if not dry_run:
        clusters = _clusters(pairs, base.meta)
        with unit_of_work(session_factory) as session:
            report.run_id = start_run(session=session, actor_id=actor_id, kind="scan").id
        for attempt in range(2):
            try:
                with unit_of_work(session_factory) as session:
                    if attempt:  # another scan stored some of these pairs meanwhile
                        known = _known_pairs(session)
                    stored = _to_store(pairs, clusters, known)
                    report.queued = _store_candidates(session, stored, known)
                break
            except IntegrityError:
                if attempt:
                    raise
        step("queue")
        report.merged, report.merge_failures = _merge_clusters(
            session_factory, clusters, actor_id, progress, report.run_id
        )
        # Merges move identities, events and stages between people and fill the queue.
        analyze_after_load(session_factory, MERGED_TABLES)
        step("merge")
        with unit_of_work(session_factory) as session:
            finish_run(session=session, run_id=report.run_id, counts=report.counts())
    with unit_of_work(session_factory) as session:
        record_audit(
            session=session,
            actor_id=actor_id,
            action="duplicates_scan",
            entity_type="duplicates",
            entity_id="dry-run" if dry_run else f"run-{report.run_id}",
            changes={
                **report.counts(),
                "dry_run": dry_run,
                "run_id": report.run_id,
                "seconds": report.seconds,
            },
        )
    return report


PAIR_COLUMNS = (
    "left_person_id",
    "right_person_id",
    "left_external_ids",
    "right_external_ids",
    "score",
    "decision",
    "left_name",
    "right_name",
)


def pairs_table(report: ScanReport) -> pd.DataFrame:
    """The pairs of a scan as written to ``--pairs FILE.csv`` (PAIR_COLUMNS)."""
    pairs, meta = report.pairs, report.meta
    left, right = meta.reindex(pairs["left_id"]), meta.reindex(pairs["right_id"])
    return pd.DataFrame(
        {
            "left_person_id": pairs["left_id"].to_numpy(),
            "right_person_id": pairs["right_id"].to_numpy(),
            "left_external_ids": left["external_ids"].to_numpy(),
            "right_external_ids": right["external_ids"].to_numpy(),
            "score": pairs["score"].round(6).to_numpy(),
            "decision": pairs["decision"].to_numpy(),
            "left_name": left["name"].to_numpy(),
            "right_name": right["name"].to_numpy(),
        },
        columns=list(PAIR_COLUMNS),
    )
