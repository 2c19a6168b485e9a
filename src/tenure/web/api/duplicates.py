"""Duplicates over HTTP: the review queue, merges of pairs and of two people, undo, scans.

Merging or dismissing a pair that is no longer pending is a 409, as is merging a pair
whose person was merged away elsewhere since; an unknown id is a 404; a person merged
away answers 404 naming the survivor (``GET /people/{id}/merged-into`` gives it as JSON).
A scan that merges is one merge run: ``GET /merge-runs`` lists runs and
``POST /merge-runs/{id}/undo`` undoes every merge of one. Every write is audited (merge,
unmerge, dismiss, duplicates_scan, undo_merge_run).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from tenure.db.session import end_read
from tenure.dedup import actions, review, runs
from tenure.dedup.merge import final_survivor, person_exists
from tenure.dedup.models import CandidateStatus
from tenure.dedup.preview import merge_sample, merges_planned
from tenure.dedup.scan import pairs_table
from tenure.errors import NotFound
from tenure.validation import RowId, StrictRowId
from tenure.web.api.paging import CursorParam, LimitParam, PageOut
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(tags=["duplicates"])

SCAN_PAIRS_SHOWN = 1_000  # pairs returned by a scan; the CLI writes them all to a file


class PersonRef(BaseModel):
    id: int
    name: str | None


class CandidateOut(BaseModel):
    id: int
    left: PersonRef
    right: PersonRef
    score: float
    decision: str = Field(description="What the matcher advised: auto or review.")
    status: str = Field(description="pending, merged or dismissed.")
    evidence: dict[str, Any] = Field(
        description='Per compared field: {"level": words, "weight": bits for (+) or against (-)}.'
    )
    found_at: datetime
    resolved_at: datetime | None
    resolved_by_id: int | None
    merge_id: int | None


class MergeOut(BaseModel):
    id: int
    survivor_id: int
    merged_person_id: int
    source: str = Field(description="auto (a scan), review (the queue) or manual.")
    score: float | None
    merged_at: datetime
    merged_by_id: int | None
    decisions: dict[str, Any] = Field(description="Per field: both values, the kept one, why.")
    moved_rows: dict[str, int]
    kept_in_history: dict[str, int]
    undone_at: datetime | None
    undone_by_id: int | None
    run_id: int | None = Field(description="The merge run (scan) that made it, if any.")
    not_restored: list[str] = Field(
        description="After an undo: what could not be put back (a related row deleted since)."
    )


class MergeRunOut(BaseModel):
    id: int
    kind: str = Field(description="scan: a whole-base scan that merged.")
    started_at: datetime
    finished_at: datetime | None
    started_by_id: int | None
    counts: dict[str, Any] = Field(description="The scan's report: people, pairs, merges.")
    merges: int = Field(description="Merges the run made.")
    merges_in_force: int = Field(description="Of those, merges not undone.")
    undone_at: datetime | None
    undone_by_id: int | None
    undo_notes: list[str] = Field(description="What the undo could not undo or restore.")


class SkippedMerge(BaseModel):
    merge_id: int
    reason: str


class MergeRunUndoOut(MergeRunOut):
    undone: list[int] = Field(description="Merges undone by this call.")
    skipped: list[SkippedMerge] = Field(description="Merges that could not be undone, and why.")


class PairMergeIn(BaseModel):
    keep_id: StrictRowId | None = Field(None, description="The person to keep; default the older.")


class PeopleMergeIn(PairMergeIn):
    other_id: StrictRowId


class ScanIn(BaseModel):
    dry_run: bool = Field(False, description="Find and decide pairs; merge and queue nothing.")


@router.get("/duplicates", response_model=PageOut[CandidateOut])
def list_duplicates(
    session: SessionDep,
    actor: ApiActor,
    status: CandidateStatus = CandidateStatus.pending,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    page = review.list_candidates(session, status=status, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/duplicates/{candidate_id}")
def get_duplicate(candidate_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    """Both people side by side, the evidence, and the field decisions a merge would take."""
    return review.candidate_detail(session, candidate_id)


@router.post(
    "/duplicates/{candidate_id}/merge",
    response_model=MergeOut,
    status_code=status.HTTP_201_CREATED,
)
def merge_duplicate(
    candidate_id: RowId, session: SessionDep, actor: ApiWriter, body: PairMergeIn | None = None
) -> dict[str, Any]:
    merge = actions.merge_candidate(
        session=session,
        candidate_id=candidate_id,
        actor=actor,
        keep_id=body.keep_id if body else None,
    )
    return review.merge_dict(merge)


@router.post("/duplicates/{candidate_id}/dismiss", response_model=CandidateOut)
def dismiss_duplicate(candidate_id: RowId, session: SessionDep, actor: ApiWriter) -> dict:
    candidate = actions.dismiss_candidate(session=session, candidate_id=candidate_id, actor=actor)
    names = review.person_names(session, {candidate.left_id, candidate.right_id})
    return review.candidate_dict(candidate, names)


@router.post("/duplicates/scan")
def scan(request: Request, body: ScanIn, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """Detect duplicates over the whole base (seconds on a large base: run in a thread).

    Without ``dry_run`` the certain pairs are merged and the probable ones queued, as one
    merge run (``run_id``) that ``POST /merge-runs/{id}/undo`` undoes whole. The answer
    has the counts, the time per step and the first pairs with the decision taken; a dry
    run also a sample of the merges it would make with their evidence (``merge_sample``);
    ``merges_planned`` is how many people the scan merges (or would) away.
    """
    # End the request session's read (the token look-up) before a long scan: an open read
    # transaction would pin SQLite's WAL snapshot for the whole run.
    end_read(session)
    report = actions.scan(
        session_factory=request.app.state.session_factory,
        actor=actor,
        dry_run=body.dry_run,
    )
    table = pairs_table(report)
    return {
        "dry_run": report.dry_run,
        "run_id": report.run_id,
        "merges_planned": merges_planned(report),
        "merge_sample": merge_sample(report) if report.dry_run else [],
        "counts": report.counts(),
        "seconds": report.seconds,
        "pairs_total": len(table),
        "pairs": table.head(SCAN_PAIRS_SHOWN).to_dict("records"),
    }


@router.post(
    "/people/{person_id}/merge", response_model=MergeOut, status_code=status.HTTP_201_CREATED
)
def merge_people_endpoint(
    person_id: RowId, body: PeopleMergeIn, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Merge two people; the older one survives unless ``keep_id`` names the other."""
    merge = actions.merge_people(
        session=session,
        person_id=person_id,
        other_id=body.other_id,
        actor=actor,
        keep_id=body.keep_id,
    )
    return review.merge_dict(merge)


@router.get("/people/{person_id}/merged-into")
def merged_into(person_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Where a merged-away person lives now (following merges of merges)."""
    if person_exists(session, person_id):
        raise NotFound("merge of person", person_id)
    survivor_id, chain = final_survivor(session, person_id)
    if not chain:
        raise NotFound("person", person_id)
    return {"person_id": person_id, "survivor_id": survivor_id, "merge_ids": chain}


@router.get("/merges", response_model=PageOut[MergeOut])
def list_merges(
    session: SessionDep,
    actor: ApiActor,
    person_id: RowId | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    page = review.list_merges(session, person_id=person_id, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/merges/{merge_id}", response_model=MergeOut)
def get_merge(merge_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    return review.merge_dict(review.get_merge(session, merge_id))


@router.post("/merges/{merge_id}/undo", response_model=MergeOut)
def undo(merge_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """Restore both people as they were, with exactly what each owned."""
    merge = actions.undo(session=session, merge_id=merge_id, actor=actor)
    return review.merge_dict(merge)


@router.get("/merge-runs", response_model=PageOut[MergeRunOut])
def list_merge_runs(
    session: SessionDep, actor: ApiActor, cursor: CursorParam = None, limit: LimitParam = 50
) -> dict[str, Any]:
    items, next_cursor = runs.list_runs(session, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/merge-runs/{run_id}", response_model=MergeRunOut)
def get_merge_run(run_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    return runs.describe_run(session, run_id)


@router.post("/merge-runs/{run_id}/undo", response_model=MergeRunUndoOut)
def undo_merge_run(
    request: Request, run_id: RowId, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Undo every merge of a run still in force; merges that cannot be undone are listed
    in ``skipped`` and the rest are undone all the same (one transaction, in a thread)."""
    end_read(session)  # as the scan does: no read transaction held open meanwhile
    return actions.undo_run(
        session_factory=request.app.state.session_factory,
        run_id=run_id,
        actor=actor,
    )
