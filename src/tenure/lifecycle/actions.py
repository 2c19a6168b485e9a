"""Writes: evaluating stages (given people, or everyone in batch) and manual overrides.

A change is written three times in the caller's transaction: the new ``person_stages``
row, a ``stage_history`` row, and a ``stage_changed`` event on the timeline whose
client_event_id (``stage-<history id>``) is unique, so automation sees each change once.

Concurrency: evaluations read the current stages, then write the differences. SQLite has
one writer, and the ingestion hook evaluates after its inserts took the write lock. On
PostgreSQL two transactions could both read a person's old stage and both record the same
change, so every evaluation and override first takes one transaction-scoped advisory lock;
the batch commits per chunk of people so that ingestion waits at most one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Person
from tenure.db.session import unit_of_work
from tenure.db.statistics import analyze_stale_tables
from tenure.db.types import utcnow
from tenure.errors import InvalidInput, NotFound
from tenure.identity.audit import record_audit
from tenure.identity.permissions import Actor, authorize
from tenure.lifecycle import placement
from tenure.lifecycle.defaults import ensure_default_model
from tenure.lifecycle.models import (
    SOURCE_OVERRIDE,
    SOURCE_RULE,
    PersonStage,
)
from tenure.lifecycle.queries import StageModel, lifecycle_settings, stage_model
from tenure.lifecycle.rules import Scope, changed_people, people_in_range, people_listed
from tenure.lifecycle.writes import Change, record_changes
from tenure.workspace import clock

#: People per batch chunk: each chunk is one GROUP BY statement and one transaction.
#: 50,000 people hold a chunk's changes in ~20 MB of Python tuples at most.
BATCH_CHUNK = 50_000
#: pg_advisory_xact_lock key of stage evaluation ("tenu" in ASCII).
LOCK_KEY = 0x74656E75
#: What the evaluation statement reads and writes: fresh statistics keep its plan sane.
EVALUATION_TABLES = (
    "people",
    "events",
    "event_items",
    "person_scores",
    "person_stages",
    "person_tags",
    "tags",
)


@dataclass
class EvaluationResult:
    """What an evaluation did. ``changed_person_ids``: the people whose stage changed (the
    hook point for what follows a placement); ``full``: a batch placed everyone rather
    than the people whose inputs changed (``tenure.lifecycle.placement``)."""

    as_of: datetime
    people: int = 0
    changes: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    changed_person_ids: list[int] = field(default_factory=list)
    full: bool = True

    def add(self, other: EvaluationResult) -> None:
        self.people += other.people
        self.changes += other.changes
        self.changed_person_ids.extend(other.changed_person_ids)
        for key, count in other.by_stage.items():
            self.by_stage[key] = self.by_stage.get(key, 0) + count


def lock_evaluation(session: Session) -> None:
    """Serialize stage writes on PostgreSQL until the transaction ends (see module doc)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def evaluate_stages(
    *, session: Session, person_ids: Sequence[int], as_of: datetime | None = None
) -> EvaluationResult | None:
    """The ingestion hook: re-evaluate the people of a stored batch, in its transaction.

    Does nothing (returns None) when the workspace turned incremental evaluation off.
    """
    if not person_ids or not lifecycle_settings(session).incremental:
        return None
    return evaluate_people(session=session, person_ids=person_ids, as_of=as_of)


def evaluate_people(
    *, session: Session, person_ids: Sequence[int], as_of: datetime | None = None
) -> EvaluationResult:
    """Apply the rules to ``person_ids`` now (or ``as_of``); the caller commits."""
    as_of = _check_as_of(as_of) or clock.now(session)
    ids = sorted(set(person_ids))
    if not ids:
        return EvaluationResult(as_of=as_of)
    lock_evaluation(session)
    return _evaluate(session, stage_model(session), people_listed(ids), as_of, people=len(ids))


def evaluate_now(
    *,
    session: Session,
    person_ids: Sequence[int],
    actor: Actor | None,
    as_of: datetime | None = None,
) -> EvaluationResult:
    """:func:`evaluate_people` as one unit of work (``POST /lifecycle/evaluate``): any
    writer may ask for people to be placed again; committed."""
    authorize(actor)
    result = evaluate_people(session=session, person_ids=person_ids, as_of=as_of)
    session.commit()
    return result


def ensure_stage_model(session: Session) -> bool:
    """Create the default stage model if this workspace has none, committed; whether it
    did. ``tenure init`` creates it; a page or API read calls this first so that its read
    never leaves the model uncommitted (and a workspace made otherwise still gets one)."""
    created = ensure_default_model(session)
    if created:
        session.commit()
    return created


def evaluate_all_stages(
    *,
    session_factory: sessionmaker[Session],
    as_of: datetime | None = None,
    chunk_size: int = BATCH_CHUNK,
    progress: Callable[[int, int], object] | None = None,
    actor_id: int | None = None,
    full: bool = True,
) -> EvaluationResult:
    """Re-evaluate everyone, or (``full=False``) the people whose inputs changed since
    the last batch placement (:mod:`tenure.lifecycle.placement` says when that is
    everyone anyway); commits chunk by chunk.

    Everyone is walked in id ranges of ``chunk_size``, the changed people in lists of it;
    each chunk is one evaluation statement and one transaction, so a crash keeps the
    finished chunks and a re-run writes only what is still different. ``progress(done,
    total)`` counts people.
    """
    started_at = utcnow()
    # A plan made on missing statistics ran 25+ minutes instead of 35 ms (db.statistics).
    analyze_stale_tables(session_factory, EVALUATION_TABLES)
    with unit_of_work(session_factory) as session:
        as_of = _check_as_of(as_of) or clock.now(session)
        model = stage_model(session)  # creates the default model on first use
        key = placement.rules_key(model)
        marks = placement.read_marks(session.connection())
        low, high, total = session.execute(
            select(func.min(Person.id), func.max(Person.id), func.count(Person.id))
        ).one()
        listed = None if full else placement.people_to_place(session, as_of=as_of, key=key)
    if listed is not None and len(listed) > max(total // 2, chunk_size):
        listed = None  # most people, in many chunks: walking the id ranges is cheaper
    result = EvaluationResult(as_of=as_of, full=listed is None)
    if listed is None and total:
        _evaluate_ranges(session_factory, result, low, high, total, chunk_size, progress)
    elif listed:
        for start in range(0, len(listed), chunk_size):
            ids = listed[start : start + chunk_size]
            with unit_of_work(session_factory) as session:
                lock_evaluation(session)
                model = stage_model(session)
                chunk = _evaluate(session, model, people_listed(ids), as_of, people=len(ids))
            result.add(chunk)
            if progress:
                progress(result.people, len(listed))
    with unit_of_work(session_factory) as session:
        placement.record_placement(
            session,
            as_of=as_of,
            full=result.full,
            key=key,
            marks=marks,
            people=result.people,
            changes=result.changes,
            started_at=started_at,
            finished_at=utcnow(),
        )
        record_audit(
            session=session,
            actor_id=actor_id,
            action="evaluate",
            entity_type="lifecycle",
            entity_id="all" if result.full else "changed",
            changes={
                "as_of": {"before": None, "after": as_of.isoformat()},
                "people": {"before": None, "after": result.people},
                "changes": {"before": None, "after": result.changes},
            },
        )
    return result


def _evaluate_ranges(
    session_factory: sessionmaker[Session],
    result: EvaluationResult,
    low: int,
    high: int,
    total: int,
    chunk_size: int,
    progress: Callable[[int, int], object] | None,
) -> None:
    start = low
    while start <= high:
        end = start + chunk_size
        with unit_of_work(session_factory) as session:
            lock_evaluation(session)
            scope = people_in_range(start, end)
            chunk = _evaluate(session, stage_model(session), scope, result.as_of)
            chunk.people = int(
                session.scalar(
                    select(func.count(Person.id)).where(Person.id >= start, Person.id < end)
                )
                or 0
            )
        result.add(chunk)
        if progress:
            progress(result.people, total)
        start = end


def _check_as_of(as_of: datetime | None) -> datetime | None:
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of", "must be timezone-aware")
    return as_of


def _evaluate(
    session: Session, model: StageModel, scope: Scope, as_of: datetime, people: int = 0
) -> EvaluationResult:
    rules = model.rule_specs()
    names = {r.id: r.name for r in model.rules}
    rows = changed_people(session.connection(), rules, as_of=as_of, scope=scope)
    changes = [
        Change(
            person_id=row.person_id,
            from_stage_id=row.from_stage_id,
            to_stage_id=row.to_stage_id,
            source=SOURCE_RULE,
            rule_id=row.rule_id,
            reason=names[row.rule_id],
        )
        for row in rows
    ]
    record_changes(session, model, changes, at=as_of)
    result = EvaluationResult(
        as_of=as_of,
        people=people,
        changes=len(changes),
        changed_person_ids=[c.person_id for c in changes],
    )
    by_id = model.by_id
    for change in changes:
        key = by_id[change.to_stage_id].key
        result.by_stage[key] = result.by_stage.get(key, 0) + 1
    return result


def set_stage_override(
    *,
    session: Session,
    person_id: int,
    stage: str,
    reason: str,
    actor_id: int | None,
    at: datetime | None = None,
) -> None:
    """Pin ``person_id`` in ``stage`` (a stage key) until cleared; the rules skip them.
    Committed here: the override is a whole action of its own."""
    pin_stage(
        session=session, person_id=person_id, stage=stage, reason=reason, actor_id=actor_id, at=at
    )
    session.commit()


def pin_stage(
    *,
    session: Session,
    person_id: int,
    stage: str,
    reason: str,
    actor_id: int | None,
    at: datetime | None = None,
) -> None:
    """``set_stage_override`` in the caller's transaction (a workflow's set_stage step)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason", "say why the stage is set by hand")
    if len(reason) > 500:
        raise InvalidInput("reason", "at most 500 characters")
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    model = stage_model(session)
    target = model.by_key.get(stage)
    if target is None:
        raise InvalidInput("stage", f"unknown stage {stage!r}; stages: {', '.join(model.by_key)}")
    lock_evaluation(session)
    at = _check_as_of(at) or clock.now(session)
    current = session.get(PersonStage, person_id)
    before = model.by_id[current.stage_id].key if current else None
    if current is None or current.stage_id != target.id:
        change = Change(
            person_id=person_id,
            from_stage_id=current.stage_id if current else None,
            to_stage_id=target.id,
            source=SOURCE_OVERRIDE,
            reason=reason,
            actor_id=actor_id,
        )
        record_changes(session, model, [change], at=at, override={person_id: (reason, actor_id)})
    else:
        # Already in that stage: no change to record, only the pin.
        current.overridden = True
        current.override_reason = reason
        current.override_by_id = actor_id
        current.override_at = at
    record_audit(
        session=session,
        actor_id=actor_id,
        action="override",
        entity_type="person_stage",
        entity_id=person_id,
        changes={
            "stage": {"before": before, "after": target.key},
            "override": {"before": None, "after": reason},
        },
    )


def clear_stage_override(
    *, session: Session, person_id: int, actor_id: int | None, as_of: datetime | None = None
) -> EvaluationResult:
    """Hand the person back to the rules, which re-evaluate them at once (committed)."""
    current = session.get(PersonStage, person_id)
    if current is None or not current.overridden:
        if session.get(Person, person_id) is None:
            raise NotFound("person", person_id)
        raise NotFound("stage override of person", person_id)
    lock_evaluation(session)
    reason = current.override_reason
    current.overridden = False
    current.override_reason = None
    current.override_by_id = None
    current.override_at = None
    record_audit(
        session=session,
        actor_id=actor_id,
        action="clear_override",
        entity_type="person_stage",
        entity_id=person_id,
        changes={"override": {"before": reason, "after": None}},
    )
    session.flush()
    result = evaluate_people(session=session, person_ids=[person_id], as_of=as_of)
    session.commit()
    return result


def describe(result: EvaluationResult) -> dict[str, Any]:
    return {
        "as_of": result.as_of,
        "people": result.people,
        "changes": result.changes,
        "by_stage": result.by_stage,
        "full": result.full,
    }
