"""The customer 360 view as data: the person with consents, orders, events, tasks, notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tenure.customers.models import Note, Task
from tenure.customers.queries import current_consents, get_person
from tenure.timeline.queries import RECENT_EVENTS_IN_360, order_summary, person_timeline

#: Open tasks and notes on the 360's first screen (``summaries.build`` ranks as many).
OPEN_TASKS_IN_360, NOTES_IN_360 = 20, 5

_OPEN_TASKS = (
    select(Task.id, Task.title, Task.due_at, Task.assignee_id)
    .where(Task.person_id == bindparam("person_id"), Task.done_at.is_(None))
    .order_by(Task.due_at, Task.id)
    .limit(OPEN_TASKS_IN_360)
)
_RECENT_NOTES = (
    select(Note.id, Note.body, Note.author_id, Note.created_at)
    .where(Note.person_id == bindparam("person_id"))
    .order_by(Note.created_at.desc(), Note.id.desc())
    .limit(NOTES_IN_360)
)


def person_360(session: Session, person_id: int) -> dict[str, Any]:
    """Everything known about a person on one page: the customer 360 view."""
    person = get_person(session, person_id)
    recent, _ = person_timeline(
        session, person_id=person_id, limit=RECENT_EVENTS_IN_360, check_person=False
    )
    connection = session.connection()
    open_tasks = connection.execute(_OPEN_TASKS, {"person_id": person_id})
    notes = connection.execute(_RECENT_NOTES, {"person_id": person_id})
    return {
        **person,
        "consents": current_consents(session, person_id),
        "orders": order_summary(session, person_id),
        "recent_events": recent,
        "open_tasks": [row._asdict() for row in open_tasks],
        "notes": [row._asdict() for row in notes],
    }
