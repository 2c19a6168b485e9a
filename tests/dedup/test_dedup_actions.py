"""The dedup actions check the actor's role themselves, whatever the entry point, and
commit their own work."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Person
from tenure.dedup import actions
from tenure.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tenure.errors import PermissionDenied
from tenure.identity.actions import create_user
from tenure.identity.models import Role, TokenScope
from tenure.identity.permissions import Actor


def _actor(session: Session, role: Role, scope: TokenScope = TokenScope.write) -> Actor:
    user = create_user(session=session, email=f"{role.value}@example.com", role=role, password=None)
    session.flush()
    return Actor(user_id=user.id, email=user.email, role=role, scope=scope)


def _pair(session: Session) -> tuple[int, int, int]:
    left = Person(first_name="Ann", last_name="Lee", attributes={})
    right = Person(first_name="Anne", last_name="Lee", attributes={})
    session.add_all([left, right])
    session.flush()
    candidate = DuplicateCandidate(
        left_id=left.id,
        right_id=right.id,
        score=9.5,
        decision="review",
        status=CandidateStatus.pending.value,
        evidence={},
    )
    session.add(candidate)
    session.flush()
    return left.id, right.id, candidate.id


def test_an_analyst_may_not_merge_dismiss_undo_or_scan(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    analyst = _actor(session, Role.analyst)
    left, right, candidate_id = _pair(session)
    session.commit()

    with pytest.raises(PermissionDenied, match="read-only"):
        actions.merge_candidate(session=session, candidate_id=candidate_id, actor=analyst)
    with pytest.raises(PermissionDenied):
        actions.dismiss_candidate(session=session, candidate_id=candidate_id, actor=analyst)
    with pytest.raises(PermissionDenied):
        actions.merge_people(session=session, person_id=left, other_id=right, actor=analyst)
    with pytest.raises(PermissionDenied):
        actions.scan(session_factory=session_factory, actor=analyst, dry_run=True)
    with pytest.raises(PermissionDenied):
        actions.undo_run(session_factory=session_factory, run_id=1, actor=analyst)

    # Nothing changed: the pair is still pending, both people still there, no merge.
    assert session.get(DuplicateCandidate, candidate_id).status == "pending"
    assert session.scalar(select(func.count()).select_from(Merge)) == 0
    assert session.scalar(select(func.count()).select_from(Person)) == 2

    # A writer merges through the same action; an analyst cannot undo it.
    sales = _actor(session, Role.sales)
    merge = actions.merge_candidate(session=session, candidate_id=candidate_id, actor=sales)
    with pytest.raises(PermissionDenied):
        actions.undo(session=session, merge_id=merge.id, actor=analyst)
    assert session.get(Merge, merge.id).undone_at is None


def test_a_read_token_may_not_merge(session: Session) -> None:
    reader = _actor(session, Role.admin, scope=TokenScope.read)
    left, right, _ = _pair(session)
    with pytest.raises(PermissionDenied, match="read scope"):
        actions.merge_people(session=session, person_id=left, other_id=right, actor=reader)


def test_the_actions_commit_their_work(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    sales = _actor(session, Role.sales)
    left, right, candidate_id = _pair(session)
    actions.dismiss_candidate(session=session, candidate_id=candidate_id, actor=sales)
    session.rollback()  # committed by the action: a rollback now undoes nothing
    assert session.get(DuplicateCandidate, candidate_id).status == "dismissed"

    merge = actions.merge_people(session=session, person_id=left, other_id=right, actor=sales)
    undone = actions.undo(session=session, merge_id=merge.id, actor=sales)
    session.rollback()
    assert session.get(Merge, undone.id).undone_at is not None
    assert session.get(Merge, merge.id).merged_by_id == sales.user_id
