"""The review queue: probable duplicates a person merges or dismisses, and past merges.

A pending pair is shown only while both people exist: a pair whose person was merged
away elsewhere drops out of the queue, and comes back if that merge is undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from tenure.customers import queries as customer_queries
from tenure.customers.models import ConsentRecord, Note, Person, Task
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.db.types import utcnow
from tenure.dedup.matching.comparisons import FIELDS as COMPARED_FIELDS
from tenure.dedup.merge import final_survivor, merge_pair, resolve_fields
from tenure.dedup.merge_rows import PEOPLE
from tenure.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import record_audit
from tenure.timeline.models import Event

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "email": "Email",
    "phone": "Phone",
    "street_number": "Street number",
    "address": "Address",
    "location": "Postcode / city",
    "organization": "Organization",
    "external_id": "Customer id",
    "decision": "Decision",
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _both_exist(candidate: type[DuplicateCandidate] | Any) -> Any:
    left, right = aliased(Person), aliased(Person)
    return exists().where(left.id == candidate.left_id) & exists().where(
        right.id == candidate.right_id
    )


def candidate_dict(candidate: DuplicateCandidate, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "left": {"id": candidate.left_id, "name": names.get(candidate.left_id)},
        "right": {"id": candidate.right_id, "name": names.get(candidate.right_id)},
        "score": candidate.score,
        "decision": candidate.decision,
        "status": candidate.status,
        "evidence": candidate.evidence,
        "found_at": candidate.found_at,
        "resolved_at": candidate.resolved_at,
        "resolved_by_id": candidate.resolved_by_id,
        "merge_id": candidate.merge_id,
    }


def person_names(session: Session, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = session.execute(
        select(PEOPLE.c.id, PEOPLE.c.first_name, PEOPLE.c.last_name).where(
            PEOPLE.c.id.in_(person_ids)
        )
    )
    return {pid: f"{first} {last}".strip() or "(no name)" for pid, first, last in rows}


def list_candidates(
    session: Session,
    *,
    status: CandidateStatus = CandidateStatus.pending,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Pairs with ``status``, most probable first (keyset on score, id)."""
    query = select(DuplicateCandidate).where(DuplicateCandidate.status == status.value)
    if status == CandidateStatus.pending:
        query = query.where(_both_exist(DuplicateCandidate))
    query = apply_keyset(
        query,
        sort_column=DuplicateCandidate.score,
        id_column=DuplicateCandidate.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    names = person_names(session, {r.left_id for r in rows} | {r.right_id for r in rows})
    next_cursor = encode_cursor(rows[-1].score, rows[-1].id) if more else None
    return Page(items=[candidate_dict(r, names) for r in rows], next_cursor=next_cursor)


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(DuplicateCandidate)
            .where(
                DuplicateCandidate.status == CandidateStatus.pending.value,
                _both_exist(DuplicateCandidate),
            )
        )
        or 0
    )


def get_candidate(session: Session, candidate_id: int) -> DuplicateCandidate:
    candidate = session.get(DuplicateCandidate, candidate_id)
    if candidate is None:
        raise NotFound("duplicate pair", candidate_id)
    return candidate


def evidence_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The matcher's per-field evidence in its field order, labelled for people, then the
    decision it took and why (pairs found before decisions were explained have none)."""
    rows = [
        {
            "field": c.field,
            "label": FIELD_LABELS.get(c.field, c.field),
            "words": evidence[c.field]["level"],
            "weight": evidence[c.field]["weight"],
        }
        for c in COMPARED_FIELDS
        if c.field in evidence
    ]
    if "decision" in evidence:
        rows.append(
            {
                "field": "decision",
                "label": FIELD_LABELS["decision"],
                "words": evidence["decision"]["level"],
                "weight": 0.0,
            }
        )
    return rows


def _counts(session: Session, person_id: int) -> dict[str, int]:
    counts = {}
    for name, model in (
        ("events", Event),
        ("notes", Note),
        ("tasks", Task),
        ("consents", ConsentRecord),
    ):
        column: Any = model.person_id  # type: ignore[attr-defined]
        counts[name] = session.scalar(select(func.count()).where(column == person_id)) or 0
    return counts


def _person_side(session: Session, person_id: int) -> dict[str, Any] | None:
    try:
        person = customer_queries.get_person(session, person_id)
    except NotFound:
        return None
    return {**person, "counts": _counts(session, person_id)}


def candidate_detail(session: Session, candidate_id: int) -> dict[str, Any]:
    """Both people side by side, the evidence, and what a merge would keep (the older
    record survives; per field the more recently updated non-empty value wins):
    ``merged`` the resulting values, ``decisions`` the fields where the two differed."""
    candidate = get_candidate(session, candidate_id)
    left = _person_side(session, candidate.left_id)
    right = _person_side(session, candidate.right_id)
    preview: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    survivor_id = None
    if left and right:
        rows = {
            row["id"]: row
            for row in session.execute(
                select(PEOPLE).where(PEOPLE.c.id.in_([candidate.left_id, candidate.right_id]))
            ).mappings()
        }
        older, newer = sorted(rows.values(), key=lambda r: (r["created_at"], r["id"]))
        survivor_id = older["id"]
        merged, preview = resolve_fields(older, newer)
    names = person_names(session, {candidate.left_id, candidate.right_id})
    return {
        "candidate": candidate_dict(candidate, names),
        "left": left,
        "right": right,
        "evidence": evidence_rows(candidate.evidence),
        "survivor_id": survivor_id,
        "merged": merged,
        "decisions": preview,
    }


def _pending(session: Session, candidate_id: int) -> DuplicateCandidate:
    candidate = session.get(DuplicateCandidate, candidate_id, with_for_update=True)
    if candidate is None:
        raise NotFound("duplicate pair", candidate_id)
    if candidate.status != CandidateStatus.pending.value:
        raise Conflict(f"duplicate pair {candidate_id} is already {candidate.status}")
    return candidate


def merge_candidate(
    *, session: Session, candidate_id: int, actor_id: int | None, keep_id: int | None = None
) -> Merge:
    """Merge a queued pair (merge_people marks it merged); 409 if no longer pending or a
    person is gone, naming where that person went."""
    candidate = _pending(session, candidate_id)
    if keep_id is not None and keep_id not in (candidate.left_id, candidate.right_id):
        raise InvalidInput("keep_id", f"must be {candidate.left_id} or {candidate.right_id}")
    for person_id in (candidate.left_id, candidate.right_id):
        now_at, chain = final_survivor(session, person_id)
        if chain:
            raise Conflict(f"person {person_id} was merged into person {now_at} since")
    return merge_pair(
        session=session,
        person_id=candidate.left_id,
        other_id=candidate.right_id,
        actor_id=actor_id,
        source="review",
        keep_id=keep_id,
        score=candidate.score,
    )


def dismiss_candidate(
    *, session: Session, candidate_id: int, actor_id: int | None
) -> DuplicateCandidate:
    """Not the same person: the pair leaves the queue and no scan proposes it again."""
    candidate = _pending(session, candidate_id)
    candidate.status = CandidateStatus.dismissed.value
    candidate.resolved_at = utcnow()
    candidate.resolved_by_id = actor_id
    record_audit(
        session=session,
        actor_id=actor_id,
        action="dismiss",
        entity_type="duplicate_pair",
        entity_id=candidate.id,
        changes={
            "left_id": candidate.left_id,
            "right_id": candidate.right_id,
            "score": candidate.score,
            "status": {"before": CandidateStatus.pending.value, "after": candidate.status},
        },
    )
    session.flush()
    return candidate


def merge_dict(merge: Merge) -> dict[str, Any]:
    return {
        "id": merge.id,
        "survivor_id": merge.survivor_id,
        "merged_person_id": merge.loser_id,
        "source": merge.source,
        "score": merge.score,
        "merged_at": merge.merged_at,
        "merged_by_id": merge.merged_by_id,
        "decisions": merge.decisions,
        "moved_rows": {k: len(m["keys"]) for k, m in merge.moves.items() if m["keys"]},
        "kept_in_history": {k: len(m["dropped"]) for k, m in merge.moves.items() if m["dropped"]},
        "undone_at": merge.undone_at,
        "undone_by_id": merge.undone_by_id,
        "run_id": merge.run_id,
        "not_restored": list(merge.undo_notes or []),
    }


def get_merge(session: Session, merge_id: int) -> Merge:
    merge = session.get(Merge, merge_id)
    if merge is None:
        raise NotFound("merge", merge_id)
    return merge


def list_merges(
    session: Session, *, person_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """Merges newest first; with ``person_id``, those it survived or was merged away in."""
    query = select(Merge)
    if person_id is not None:
        query = query.where((Merge.survivor_id == person_id) | (Merge.loser_id == person_id))
    query = apply_keyset(
        query,
        sort_column=Merge.id,
        id_column=Merge.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].id, rows[-1].id) if more else None
    return Page(items=[merge_dict(m) for m in rows], next_cursor=next_cursor)
