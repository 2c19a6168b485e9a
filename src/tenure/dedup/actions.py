"""Writes of deduplication, one unit of work each, checked against the actor's role.

Every entry point (API, pages, CLI, a job) merges, dismisses, undoes and scans through
these, so none can forget who may (``identity.permissions.DUPLICATE_RESOLVERS``). Actions
given a request's session commit at their end; the scan and the undo of a whole run open
their own transactions (``unit_of_work``), as they run in a worker thread. ``actor=None``
is the operator at the command line (``authorize``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from tenure.customers import actions as customer_actions
from tenure.customers.models import Person
from tenure.customers.schemas import PersonCreate
from tenure.dedup import review, runs
from tenure.dedup.door import possible_duplicates, queue_pairs
from tenure.dedup.merge import merge_pair, undo_merge
from tenure.dedup.models import DuplicateCandidate, Merge
from tenure.dedup.scan import ScanReport, scan_duplicates
from tenure.identity.permissions import DUPLICATE_RESOLVERS, Actor, authorize

OnDuplicate = Literal["create", "reject"]


@dataclass(frozen=True)
class Admission:
    """A person created through the door, or refused: ``person`` is None when
    ``on_duplicate="reject"`` found probable duplicates (then nothing was written)."""

    person: Person | None
    #: The people it probably duplicates, best first: ``id``, ``name``, ``score`` and
    #: ``evidence`` (per compared field and the decision, in words).
    possible_duplicates: list[dict[str, Any]]


def create_person(
    *,
    session: Session,
    data: PersonCreate,
    actor: Actor | None,
    default_region: str,
    on_duplicate: OnDuplicate = "create",
) -> Admission:
    """Create a person unless it probably duplicates someone and ``on_duplicate`` is
    ``"reject"``; created, each probable duplicate is queued for review. Any role that
    writes may create people; committed (or rolled back when refused)."""
    actor_id = authorize(actor)
    person = customer_actions.create_person(
        session=session, data=data, actor_id=actor_id, default_region=default_region
    )
    found = possible_duplicates(session, person.id)
    shown = [{key: f[key] for key in ("id", "name", "score", "evidence")} for f in found]
    if found and on_duplicate == "reject":
        session.rollback()
        return Admission(None, shown)
    queue_pairs(session, [(person.id, f["id"], f["score"], f["raw_evidence"]) for f in found])
    session.commit()
    return Admission(person, shown)


def merge_candidate(
    *, session: Session, candidate_id: int, actor: Actor | None, keep_id: int | None = None
) -> Merge:
    """Merge a queued pair (409 if no longer pending or a person is gone); committed."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    merge = review.merge_candidate(
        session=session, candidate_id=candidate_id, actor_id=actor_id, keep_id=keep_id
    )
    session.commit()
    return merge


def dismiss_candidate(
    *, session: Session, candidate_id: int, actor: Actor | None
) -> DuplicateCandidate:
    """Not the same person: the pair leaves the queue for good; committed."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    candidate = review.dismiss_candidate(
        session=session, candidate_id=candidate_id, actor_id=actor_id
    )
    session.commit()
    return candidate


def merge_people(
    *,
    session: Session,
    person_id: int,
    other_id: int,
    actor: Actor | None,
    keep_id: int | None = None,
) -> Merge:
    """Merge two people by hand (the older survives unless ``keep_id``); committed."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    merge = merge_pair(
        session=session,
        person_id=person_id,
        other_id=other_id,
        actor_id=actor_id,
        source="manual",
        keep_id=keep_id,
    )
    session.commit()
    return merge


def undo(*, session: Session, merge_id: int, actor: Actor | None) -> Merge:
    """Restore both people of a merge as they were; committed."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    merge = undo_merge(session=session, merge_id=merge_id, actor_id=actor_id)
    session.commit()
    return merge


def scan(
    *, session_factory: sessionmaker[Session], actor: Actor | None, dry_run: bool = False
) -> ScanReport:
    """Scan the whole base: merge the certain pairs and queue the probable ones as one
    merge run (transactions of its own); a dry run decides and writes nothing. A dry run
    is still a writer's act: it previews a change only a resolver may make."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    return scan_duplicates(session_factory=session_factory, actor_id=actor_id, dry_run=dry_run)


def undo_run(
    *, session_factory: sessionmaker[Session], run_id: int, actor: Actor | None
) -> dict[str, Any]:
    """Undo every merge of a run still in force, in a transaction of its own."""
    actor_id = authorize(actor, DUPLICATE_RESOLVERS)
    return runs.undo_run_committed(
        session_factory=session_factory, run_id=run_id, actor_id=actor_id
    )
