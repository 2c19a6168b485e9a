"""Merge runs: the merges of one scan, recorded together and undone as a whole.

A scan that merges starts a run (:func:`start_run`), every merge it makes carries the
run's id, and :func:`finish_run` stores the scan's counts. :func:`undo_run` undoes the
run's merges newest first (a cluster of three merged into one survivor comes apart in
the reverse order it was put together), each in its own savepoint: a merge that cannot
be undone (already undone by hand, or its survivor merged again since by a later
merge) is reported and the others still are, so one refusal never blocks the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.paging import apply_keyset, encode_cursor
from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.dedup.merge import undo_merge
from tenure.dedup.models import Merge, MergeRun
from tenure.errors import Conflict, NotFound
from tenure.identity.audit import record_audit


def start_run(*, session: Session, actor_id: int | None, kind: str = "scan") -> MergeRun:
    run = MergeRun(kind=kind, started_by_id=actor_id, counts={}, undo_notes=[])
    session.add(run)
    session.flush()
    return run


def finish_run(*, session: Session, run_id: int, counts: dict[str, Any]) -> MergeRun:
    run = get_run(session, run_id)
    run.counts = counts
    run.finished_at = utcnow()
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> MergeRun:
    run = session.get(MergeRun, run_id)
    if run is None:
        raise NotFound("merge run", run_id)
    return run


def _merge_counts(session: Session, run_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per run: (merges, merges still in force)."""
    if not run_ids:
        return {}
    rows = session.execute(
        select(
            Merge.run_id,
            func.count(),
            func.count().filter(Merge.undone_at.is_(None)),
        )
        .where(Merge.run_id.in_(run_ids))
        .group_by(Merge.run_id)
    )
    return {run_id: (total, active) for run_id, total, active in rows if run_id is not None}


def run_dict(run: MergeRun, counts: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "started_by_id": run.started_by_id,
        "counts": run.counts or {},
        "merges": counts[0],
        "merges_in_force": counts[1],
        "undone_at": run.undone_at,
        "undone_by_id": run.undone_by_id,
        "undo_notes": list(run.undo_notes or []),
    }


def describe_run(session: Session, run_id: int) -> dict[str, Any]:
    run = get_run(session, run_id)
    return run_dict(run, _merge_counts(session, [run.id]).get(run.id, (0, 0)))


def list_runs(
    session: Session, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Runs newest first, each with how many merges it made and how many still hold."""
    query = apply_keyset(
        select(MergeRun),
        sort_column=MergeRun.id,
        id_column=MergeRun.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    counts = _merge_counts(session, [r.id for r in rows])
    items = [run_dict(r, counts.get(r.id, (0, 0))) for r in rows]
    return items, encode_cursor(rows[-1].id, rows[-1].id) if more else None


def undo_run(*, session: Session, run_id: int, actor_id: int | None) -> dict[str, Any]:
    """Undo every merge of a run still in force, newest first; audited.

    Returns the run as :func:`describe_run` gives it, plus ``undone`` (merge ids undone
    now) and ``skipped`` (merge id and why, for merges that could not be undone). The
    run's ``undo_notes`` keep both the refusals and what undone merges could not restore.
    Refused (409) when the run was already undone.
    """
    run = session.get(MergeRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound("merge run", run_id)
    if run.undone_at is not None:
        raise Conflict(f"merge run {run_id} was already undone")
    merge_ids = list(
        session.scalars(
            select(Merge.id)
            .where(Merge.run_id == run_id, Merge.undone_at.is_(None))
            .order_by(Merge.id.desc())
        )
    )
    undone: list[int] = []
    skipped: list[dict[str, Any]] = []
    notes: list[str] = []
    for merge_id in merge_ids:
        try:
            with session.begin_nested():
                merge = undo_merge(session=session, merge_id=merge_id, actor_id=actor_id)
        except Conflict as refusal:
            skipped.append({"merge_id": merge_id, "reason": str(refusal)})
            notes.append(f"merge {merge_id} not undone: {refusal}")
            continue
        except IntegrityError as error:  # a row written since collides: skip this one only
            reason = f"a row written since collides ({error.orig.__class__.__name__})"
            skipped.append({"merge_id": merge_id, "reason": reason})
            notes.append(f"merge {merge_id} not undone: {reason}")
            continue
        undone.append(merge_id)
        notes.extend(f"merge {merge_id}: {note}" for note in merge.undo_notes or [])
    run = get_run(session, run_id)  # undo_merge expires the session's objects
    run.undone_at = utcnow()
    run.undone_by_id = actor_id
    run.undo_notes = notes
    record_audit(
        session=session,
        actor_id=actor_id,
        action="undo_merge_run",
        entity_type="merge_run",
        entity_id=run_id,
        changes={"undone": len(undone), "skipped": skipped, "not_restored": notes},
    )
    session.flush()
    return {**describe_run(session, run_id), "undone": undone, "skipped": skipped}


def undo_run_committed(
    *, session_factory: sessionmaker[Session], run_id: int, actor_id: int | None
) -> dict[str, Any]:
    """:func:`undo_run` in a transaction of its own, committed: for a web worker thread.
    A run of 400 merges took 10 s on SQLite (25 ms a merge, two busy shared cores), too
    long to hold a request's event loop."""
    with unit_of_work(session_factory) as session:
        return undo_run(session=session, run_id=run_id, actor_id=actor_id)
