"""The demo's account work: calls, meetings, emails and notes logged on organizations by
their owners, and an open task on some, so an organization page has its own story.

Runs after the staff (identity, order 10) and the owners (customers, order 20): each
organization's owner logs one to three activities over the 45 days before the demo's
today, a third of the organizations get a note and a third an open task due within two
weeks. It goes through the same functions the pages call (``timeline.activities``,
``customers.activities``), so the events land on the organizations' own timelines through
the append path.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tenure.customers.activities import create_task
from tenure.customers.models import Organization
from tenure.customers.schemas import (
    ActivityCreate,
    ActivityDirection,
    ActivityKind,
    NoteCreate,
    TaskCreate,
)
from tenure.identity.models import Role, User
from tenure.identity.permissions import Actor
from tenure.timeline.activities import add_note, log_activity
from tenure.timeline.demo_feedback import add_demo_feedback
from tenure.workspace.demo import DemoContext, register_demo_contribution

LOOKBACK_DAYS = 45
KIND_SHARES = (0.5, 0.2, 0.3)  # calls, meetings, emails
NOTE_SHARE = 1 / 3
TASK_SHARE = 1 / 3
OUTCOMES = {
    ActivityKind.call: ("Connected", "Left a voicemail", "Agreed to a demo", "No answer"),
    ActivityKind.meeting: ("Quarterly review held", "Kick-off held", "Rescheduled"),
    ActivityKind.email: ("Sent the catalogue", "Replied with prices", "Sent a renewal offer"),
}
NOTES = (
    "Orders for the whole team go through the office manager.",
    "Budget for next season is approved; expect a larger first order.",
    "Prefers email; calls only after 3 pm.",
)
TASKS = ("Send the new catalogue", "Check in before the season starts", "Renewal call")


def add_demo_account_work(context: DemoContext) -> None:
    session, rng = context.session, context.rng
    owners = dict(
        session.execute(
            select(Organization.id, Organization.owner_id).where(
                Organization.id.in_(list(context.organization_ids))
            )
        ).all()
    )
    actors = {
        user.id: Actor(user_id=user.id, email=user.email, role=Role(user.role))
        for user in session.scalars(select(User).where(User.id.in_(set(owners.values()) - {None})))
    }
    kinds = list(OUTCOMES)
    for org_id in context.organization_ids:
        owner_id = owners[org_id]
        actor = actors.get(owner_id) if owner_id is not None else None
        for _ in range(int(rng.integers(1, 4))):
            kind = kinds[int(rng.choice(len(kinds), p=KIND_SHARES))]
            outcomes = OUTCOMES[kind]
            minutes = None if kind == ActivityKind.email else int(rng.integers(5, 61))
            data = ActivityCreate(
                kind=kind,
                direction=ActivityDirection.inbound
                if rng.random() < 0.3
                else ActivityDirection.outbound,
                outcome=outcomes[int(rng.integers(len(outcomes)))],
                duration_minutes=minutes,
                # A working day's hour (9:00 to 17:59 UTC) of one of the last days.
                occurred_at=context.today
                - timedelta(days=int(rng.integers(1, LOOKBACK_DAYS + 1)))
                + timedelta(hours=int(rng.integers(9, 18)), minutes=int(rng.integers(60))),
            )
            log_activity(session=session, data=data, actor=actor, organization_id=org_id)
        actor_id = actor.user_id if actor else None
        if rng.random() < NOTE_SHARE:
            body = NOTES[int(rng.integers(len(NOTES)))]
            add_note(
                session=session,
                data=NoteCreate(body=body),
                actor_id=actor_id,
                organization_id=org_id,
            )
        if rng.random() < TASK_SHARE:
            due = context.today + timedelta(days=int(rng.integers(0, 15)))
            task = TaskCreate(
                title=TASKS[int(rng.integers(len(TASKS)))], assignee_id=actor_id, due_at=due
            )
            create_task(session=session, data=task, actor_id=actor_id, organization_id=org_id)


def register() -> None:
    register_demo_contribution("timeline.account_work", add_demo_account_work, order=50)
    # After the account work, before the templates and workflows (60, 70).
    register_demo_contribution("timeline.feedback", add_demo_feedback, order=55)
