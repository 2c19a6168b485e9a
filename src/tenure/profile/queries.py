"""The customer 360 view as data: the person with consents, orders, events, tasks, notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Note, Person, Task
from tenure.customers.queries import (
    current_consents,
    current_consents_by_person,
    get_person,
    person_list_dicts,
    person_list_query,
)
from tenure.timeline.queries import (
    RECENT_EVENTS_IN_360,
    order_summaries,
    order_summary,
    person_timeline,
    recent_events_by_person,
)

_OPEN_TASKS = (
    select(Task.id, Task.title, Task.due_at, Task.assignee_id)
    .where(Task.person_id == bindparam("person_id"), Task.done_at.is_(None))
    .order_by(Task.due_at, Task.id)
    .limit(20)
)
_RECENT_NOTES = (
    select(Note.id, Note.body, Note.author_id, Note.created_at)
    .where(Note.person_id == bindparam("person_id"))
    .order_by(Note.created_at.desc(), Note.id.desc())
    .limit(5)
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


def _ranked(
    query: Select[Any] | Any, *, partition: Any, order_by: tuple[Any, ...], limit: int
) -> Select[Any]:
    """``query``'s rows, the first ``limit`` per ``partition`` in ``order_by`` order (the
    per-person LIMIT of the statements above, for many people at once)."""
    rank = func.row_number().over(partition_by=partition, order_by=order_by).label("rank")
    ranked = query.add_columns(rank).subquery()
    return (
        select(*(c for c in ranked.c if c.key != "rank"))
        .where(ranked.c.rank <= limit)
        .order_by(*(ranked.c[c.key] for c in (partition,)), ranked.c.rank)
    )


_OPEN_TASKS_OF_PEOPLE = _ranked(
    select(Task.person_id, Task.id, Task.title, Task.due_at, Task.assignee_id).where(
        Task.person_id.in_(bindparam("ids", expanding=True)), Task.done_at.is_(None)
    ),
    partition=Task.person_id,
    order_by=(Task.due_at, Task.id),
    limit=20,
)
_RECENT_NOTES_OF_PEOPLE = _ranked(
    select(Note.person_id, Note.id, Note.body, Note.author_id, Note.created_at).where(
        Note.person_id.in_(bindparam("ids", expanding=True))
    ),
    partition=Note.person_id,
    order_by=(Note.created_at.desc(), Note.id.desc()),
    limit=5,
)


def _by_person(
    session: Session, statement: Select[Any], ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for row in session.connection().execute(statement, {"ids": list(ids)}):
        record = row._asdict()
        found[record.pop("person_id")].append(record)
    return found


def people_360(session: Session, person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """``person_360`` of many people in a few statements (the read model's rebuild); people
    that do not exist are left out."""
    rows = (
        session.connection()
        .execute(
            person_list_query().where(Person.id.in_(bindparam("ids", expanding=True))),
            {"ids": list(person_ids)},
        )
        .all()
    )
    ids = [row.id for row in rows]
    if not ids:
        return {}
    people = person_list_dicts(session, rows)
    consents = current_consents_by_person(session, ids)
    orders = order_summaries(session, ids)
    events = recent_events_by_person(session, ids)
    tasks = _by_person(session, _OPEN_TASKS_OF_PEOPLE, ids)
    notes = _by_person(session, _RECENT_NOTES_OF_PEOPLE, ids)
    return {
        person["id"]: {
            **person,
            "consents": consents[person["id"]],
            "orders": orders[person["id"]],
            "recent_events": events[person["id"]],
            "open_tasks": tasks[person["id"]],
            "notes": notes[person["id"]],
        }
        for person in people
    }
