"""Helpers of the workflow tests: a definition, people, orders, the clock, the runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenure.automation import actions
from tenure.automation.models import Enrolment, EnrolmentStep
from tenure.automation.runner import Advanced, advance
from tenure.config import Settings
from tenure.timeline.append import append_events
from tenure.workspace import clock
from tests.messaging.conftest import add_person

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(session: Session, moment: datetime) -> None:
    """Move the workspace clock (committed: runners read it in their own transactions)."""
    clock.fix_now(session, moment)
    session.commit()


def person(
    session: Session, email: str, *, first_name: str = "Ada", marketing: str | None = "granted"
) -> int:
    """A person with a primary email (and marketing consent recorded before T0), committed."""
    person_id = add_person(
        session,
        email,
        first_name=first_name,
        marketing=marketing,
        consented_at=T0 - timedelta(days=30),
    )
    session.commit()
    return person_id


def order(
    session: Session, person_id: int, when: datetime, amount_minor: int = 4200, **extra: Any
) -> list[int]:
    item: dict[str, Any] = {
        "type": "order",
        "person_id": person_id,
        "occurred_at": when.isoformat(),
        "amount_minor": amount_minor,
        "currency": "USD",
        **extra,
    }
    result = append_events(session=session, raw_items=[item], actor_id=None)
    session.commit()
    return list(result.stored_ids)


def workflow(session: Session, definition: dict[str, Any], name: str = "Order follow-up") -> int:
    created = actions.create_workflow(session, actor=None, name=name, definition=definition)
    actions.publish(session, actor=None, workflow_id=created.id)
    return created.id


def run(factory: sessionmaker[Session], settings: Settings) -> Advanced:
    return advance(factory, settings, budget_seconds=60)


def enrolments(session: Session, workflow_id: int) -> list[Enrolment]:
    session.expire_all()
    return list(
        session.scalars(
            select(Enrolment).where(Enrolment.workflow_id == workflow_id).order_by(Enrolment.id)
        )
    )


def steps_of(session: Session, enrolment_id: int) -> list[tuple[str, str, str | None]]:
    session.expire_all()
    return [
        (row.step_id, row.state, row.outcome)
        for row in session.scalars(
            select(EnrolmentStep)
            .where(EnrolmentStep.enrolment_id == enrolment_id)
            .order_by(EnrolmentStep.id)
        )
    ]
