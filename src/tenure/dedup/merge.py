"""Merging two people into one, and undoing it exactly.

The rule (docs/identity-resolution.md):

- the *survivor* is the older record (earlier ``created_at``, then lower id) unless the
  caller names the one to keep; the other, the *loser*, is deleted at the end;
- ``first_name``, ``last_name``, ``job_title``, ``organization_id``, ``owner_id``: the
  non-empty value of the more recently updated record wins (the survivor on a tie); an
  empty value never overwrites one; ``attributes`` merge key by key by the same rule;
  ``created_at`` becomes the earlier of the two ("customer since");
- every row of every table with a foreign key to ``people.id`` moves to the survivor
  (identities, events and through them their items, consents, notes, tasks, tags, import
  links, and the rows of capabilities added later), found from the metadata so that a new
  table is never silently cascaded away. Three exceptions, each kept in the merge record:
  a row the survivor already has (the same tag, import or phone number) is dropped; the
  loser's one-row-per-person derived state (scores, stage, risk) is dropped, to be
  recomputed for the survivor by its owner's next refresh; and the loser's primary
  identities lose the flag where the survivor has a primary of that kind and namespace.

The merge row keeps the loser's full row, the survivor's row before and after, the field
decisions, and per table the keys moved and the rows dropped (``merge_rows``);
:func:`undo_merge` puts everything back from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.customers.summaries import mark_stale
from tenure.db.types import utcnow
from tenure.dedup.merge_batch import MissingPerson, merge_clusters
from tenure.dedup.merge_rows import (
    IDENTITIES,
    PEOPLE,
    ensure_primaries,
    missing_references,
    restore_rows,
)
from tenure.dedup.models import (
    CandidateStatus,
    DuplicateCandidate,
    Merge,
    decode_row,
    decode_value,
    encode_row,
    encode_value,
)
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import record_audit

FIELDS = ("first_name", "last_name", "job_title", "organization_id", "owner_id")
_CHAIN_LIMIT = 100  # merges followed to find where a person went; a cycle cannot happen


class MergedAway(NotFound):
    """A person id that a merge deleted: a 404 that says where the person went."""

    def __init__(self, person_id: int, merge: Merge) -> None:
        super().__init__("person", person_id)
        self.args = (
            f"person {person_id} not found: merged into person {merge.survivor_id} "
            f"(merge {merge.id})",
        )
        self.survivor_id = merge.survivor_id
        self.merge_id = merge.id


def merge_of_loser(session: Session, person_id: int) -> Merge | None:
    """The merge in force that deleted ``person_id``, if any."""
    return session.scalar(
        select(Merge)
        .where(Merge.loser_id == person_id, Merge.undone_at.is_(None))
        .order_by(Merge.id.desc())
        .limit(1)
    )


def person_exists(session: Session, person_id: int) -> bool:
    return session.execute(select(PEOPLE.c.id).where(PEOPLE.c.id == person_id)).first() is not None


def final_survivor(session: Session, person_id: int) -> tuple[int, list[int]]:
    """Where ``person_id`` lives now, following merges of merges; and the merge ids."""
    chain: list[int] = []
    for _ in range(_CHAIN_LIMIT):
        if person_exists(session, person_id):
            break
        merge = merge_of_loser(session, person_id)
        if merge is None:
            break
        chain.append(merge.id)
        person_id = merge.survivor_id
    return person_id, chain


def survivor_of_merged(session: Session, person_id: int) -> int | None:
    """The person a merged-away ``person_id`` lives on as (following merges of merges),
    or None when the id names no merged-away person (never existed, or deleted)."""
    if person_exists(session, person_id):
        return None
    survivor_id, chain = final_survivor(session, person_id)
    return survivor_id if chain and person_exists(session, survivor_id) else None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def resolve_fields(
    survivor: Mapping[Any, Any], loser: Mapping[Any, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """New survivor values and, per field that differed, both values and what was kept."""
    loser_newer = loser["updated_at"] > survivor["updated_at"]
    decisions: dict[str, Any] = {}

    def pick(name: str, kept: Any, other: Any) -> Any:
        if _is_empty(other) or kept == other:
            return kept
        if _is_empty(kept):
            chosen, why = other, "filled from the merged record"
        elif loser_newer:
            chosen, why = other, "merged record updated more recently"
        else:
            chosen, why = kept, "surviving record updated more recently"
        decisions[name] = {
            "survivor": encode_value(kept),
            "merged": encode_value(other),
            "kept": encode_value(chosen),
            "reason": why,
        }
        return chosen

    values = {name: pick(name, survivor[name], loser[name]) for name in FIELDS}
    attributes = dict(survivor["attributes"] or {})
    for key, other in (loser["attributes"] or {}).items():
        chosen = pick(f"attributes.{key}", attributes.get(key), other)
        if key in attributes or chosen is not None:
            attributes[key] = chosen
    values["attributes"] = attributes
    if loser["created_at"] < survivor["created_at"]:
        values["created_at"] = loser["created_at"]
        decisions["created_at"] = {
            "survivor": encode_value(survivor["created_at"]),
            "merged": encode_value(loser["created_at"]),
            "kept": encode_value(loser["created_at"]),
            "reason": "the earlier of the two: customer since",
        }
    return values, decisions


def _search_text(session: Session, person_id: int, first: str, last: str) -> str:
    # As customers.actions builds it: names and identity values, lowercased.
    values = session.scalars(
        select(IDENTITIES.c.value).where(IDENTITIES.c.person_id == person_id).order_by("id")
    )
    return " ".join(p for p in (first, last, *values) if p).lower()


def merge_people(
    *,
    session: Session,
    survivor_id: int,
    loser_id: int,
    actor_id: int | None,
    source: str,
    score: float | None = None,
) -> Merge:
    """Merge ``loser_id`` into ``survivor_id`` in the caller's transaction; audited."""
    if survivor_id == loser_id:
        raise InvalidInput("other_id", "is the same person")
    try:
        (merge_id,) = merge_clusters(
            session=session,
            clusters=[(survivor_id, [loser_id], score)],
            actor_id=actor_id,
            source=source,
            resolve=resolve_fields,
        )
    except MissingPerson as error:
        merge = merge_of_loser(session, error.person_id)
        raise MergedAway(error.person_id, merge) if merge else error
    merge = session.get(Merge, merge_id)
    assert merge is not None
    return merge


def _forget(session: Session, loser_id: int) -> None:
    """Core statements bypass the ORM: the deleted (or re-inserted) loser leaves the
    identity map and everything else is expired, so that objects a caller holds are
    read again rather than shown stale."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Person) and obj in session and inspect(obj).identity == (loser_id,):
            session.expunge(obj)
    session.expire_all()


def _restored_fields(current: dict[str, Any], merge: Merge) -> dict[str, Any]:
    """The survivor's values after undo: all of "before" when nobody edited it since the
    merge, otherwise only the fields (and attribute keys) still as the merge left them."""
    before, after = merge.survivor_before, merge.survivor_after
    if encode_row(PEOPLE, current) == after:
        values = decode_row(PEOPLE, before)
        values.pop("id")
        return values
    values = {
        name: decode_value(PEOPLE.c[name], before[name])
        for name in (*FIELDS, "created_at")
        if before[name] != after[name] and encode_value(current[name]) == after[name]
    }
    attributes = dict(current["attributes"] or {})
    old, new = before["attributes"] or {}, after["attributes"] or {}
    for key in set(old) | set(new):
        if old.get(key) != new.get(key) and attributes.get(key) == new.get(key):
            if key in old:
                attributes[key] = old[key]
            else:
                attributes.pop(key, None)
    values["attributes"] = attributes
    values["updated_at"] = utcnow()
    return values


def _drop_dangling(
    session: Session, values: dict[str, Any], notes: list[str], who: str, keep: bool = False
) -> None:
    """A person's organization or owner deleted since the merge: the restored row goes
    without it (``keep``: the survivor keeps its current value) and a note says so."""
    for name in ("organization_id", "owner_id"):
        if name in values and missing_references(session, PEOPLE, {name: values[name]}):
            gone = missing_references(session, PEOPLE, {name: values[name]})[0]
            if keep:
                values.pop(name)
                notes.append(f"{who}: {gone} was deleted since; the current value is kept")
            else:
                values[name] = None
                notes.append(f"{who}: restored without {gone} (deleted since)")


def undo_merge(*, session: Session, merge_id: int, actor_id: int | None) -> Merge:
    """Restore both people of a merge as they were, with exactly what each owned; audited.

    Rows added to the survivor after the merge stay with it; rows since deleted stay
    deleted; a field edited after the merge keeps its edit. What points to a row deleted
    since (an organization, an owner, a segment, a tag) is left out rather than failing:
    ``merge.undo_notes`` says what could not be restored. Refused (409) when already
    undone, when the survivor is gone (undo the later merge that took it first), or when
    the loser's id names someone else again (SQLite can reuse the highest id).
    """
    merge = session.get(Merge, merge_id, with_for_update=True)
    if merge is None:
        raise NotFound("merge", merge_id)
    if merge.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    current = (
        session.execute(select(PEOPLE).where(PEOPLE.c.id == merge.survivor_id).with_for_update())
        .mappings()
        .first()
    )
    if current is None:
        later = merge_of_loser(session, merge.survivor_id)
        hint = f": undo merge {later.id} first" if later else " (deleted)"
        raise Conflict(f"person {merge.survivor_id} no longer exists{hint}")
    if person_exists(session, merge.loser_id):
        raise Conflict(f"person id {merge.loser_id} now belongs to another person")
    notes: list[str] = []
    loser = decode_row(PEOPLE, merge.loser_snapshot)
    _drop_dangling(session, loser, notes, f"person {merge.loser_id}")
    session.execute(insert(PEOPLE).values(loser))
    notes += restore_rows(
        session, survivor_id=merge.survivor_id, loser_id=merge.loser_id, moves=merge.moves
    )
    ensure_primaries(session, merge.survivor_id)
    values = _restored_fields(dict(current), merge)
    _drop_dangling(session, values, notes, f"person {merge.survivor_id}", keep=True)
    if "search_text" not in values:
        first = values.get("first_name", current["first_name"])
        last = values.get("last_name", current["last_name"])
        values["search_text"] = _search_text(session, merge.survivor_id, first, last)
    session.execute(update(PEOPLE).where(PEOPLE.c.id == merge.survivor_id).values(**values))
    mark_stale(session, [merge.survivor_id, merge.loser_id], add_missing=False)
    merge.undone_at = utcnow()
    merge.undone_by_id = actor_id
    merge.undo_notes = notes
    # The merged pair goes back to the queue for a person to decide (a rescan never
    # re-merges a pair it already knows), and so do the pairs the merge made stale.
    candidates = DuplicateCandidate
    session.execute(
        update(candidates)
        .where(candidates.merge_id == merge.id, candidates.status == CandidateStatus.merged.value)
        .values(decision="review", resolved_at=None, resolved_by_id=None)
    )
    session.execute(
        update(candidates)
        .where(candidates.merge_id == merge.id)
        .values(status=CandidateStatus.pending.value, merge_id=None)
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="unmerge",
        entity_type="person",
        entity_id=merge.survivor_id,
        changes={
            "merge_id": merge.id,
            "restored_person_id": merge.loser_id,
            "fields": sorted(k for k in values if k not in ("search_text", "updated_at")),
            "not_restored": notes,
        },
    )
    session.flush()
    _forget(session, merge.loser_id)
    return merge


def merge_pair(
    *,
    session: Session,
    person_id: int,
    other_id: int,
    actor_id: int | None,
    source: str,
    keep_id: int | None = None,
    score: float | None = None,
) -> Merge:
    """Merge two people by the survivor rule (the older one stays) or keep ``keep_id``."""
    if person_id == other_id:
        raise InvalidInput("other_id", "is the same person")
    rows = {
        row.id: row
        for row in session.execute(
            select(PEOPLE.c.id, PEOPLE.c.created_at).where(PEOPLE.c.id.in_([person_id, other_id]))
        )
    }
    for pid in (person_id, other_id):
        if pid not in rows:
            merge = merge_of_loser(session, pid)
            raise MergedAway(pid, merge) if merge else NotFound("person", pid)
    if keep_id is None:
        keep_id = min(rows.values(), key=lambda r: (r.created_at, r.id)).id
    elif keep_id not in rows:
        raise InvalidInput("keep_id", f"must be {person_id} or {other_id}")
    loser_id = other_id if keep_id == person_id else person_id
    return merge_people(
        session=session,
        survivor_id=keep_id,
        loser_id=loser_id,
        actor_id=actor_id,
        source=source,
        score=score,
    )
