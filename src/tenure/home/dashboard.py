"""Home: the logged-in user's day and book on one page (and ``GET /api/v1/home``).

A user's **book** is the people they own (``people.owner_id``). Admins, managers and
analysts (``BOOK_OVERSEERS``) may look at the whole workspace instead ("Everyone", their
default); everyone else sees their own book. Every figure is aggregated in SQL and judged
against the workspace clock, read once per request.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Person, Task
from tenure.customers.tasks import DayBounds, DueBucket, TaskStatus, list_tasks
from tenure.errors import PermissionDenied
from tenure.home import figures
from tenure.identity.permissions import BOOK_OVERSEERS, Actor
from tenure.retention import queries as retention
from tenure.retention.actions import load_config
from tenure.timeline.models import DERIVED_TYPES, Event, EventItem
from tenure.timeline.story import tell
from tenure.workspace import clock
from tenure.workspace.settings import time_zone

AT_RISK_SHOWN = 8
ACTIVITY_SHOWN = 10
TASKS_SHOWN = 10


class Scope(enum.StrEnum):
    mine = "mine"
    everyone = "everyone"


def oversees_books(actor: Actor) -> bool:
    """Whether ``actor`` may look at the whole workspace (a read: a read token may too)."""
    return actor.role in BOOK_OVERSEERS


def resolve_scope(actor: Actor, requested: Scope | None) -> Scope:
    """The scope ``actor`` gets: Everyone by default for ``BOOK_OVERSEERS``, else Mine."""
    oversees = oversees_books(actor)
    if requested is None:
        return Scope.everyone if oversees else Scope.mine
    if requested == Scope.everyone and not oversees:
        raise PermissionDenied("only admins, managers and analysts see the whole workspace on Home")
    return requested


def _task_counts(session: Session, assignee_id: int | None, day: DayBounds) -> dict[str, int]:
    query = select(
        func.count(case((Task.due_at < day.start, 1))),
        func.count(case(((Task.due_at >= day.start) & (Task.due_at < day.end), 1))),
        func.count(case(((Task.due_at >= day.end) | Task.due_at.is_(None), 1))),
    ).where(Task.done_at.is_(None))
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    overdue, today, upcoming = session.execute(query).one()
    return {"overdue": int(overdue), "today": int(today), "upcoming": int(upcoming)}


def tasks_due(session: Session, assignee_id: int | None, now: datetime) -> dict[str, Any]:
    """Counts of open tasks per bucket and the first overdue and due-today tasks."""
    counts = _task_counts(session, assignee_id, DayBounds.of(now, time_zone(session)))
    items: list[dict[str, Any]] = []
    for bucket in (DueBucket.overdue, DueBucket.today):
        if counts[bucket.value] and len(items) < TASKS_SHOWN:
            rows, _ = list_tasks(
                session,
                assignee_id=assignee_id,
                status=TaskStatus.open,
                due=bucket,
                limit=TASKS_SHOWN - len(items),
            )
            items.extend(rows)
    return {**counts, "items": items}


def at_risk(session: Session, owner_id: int | None, threshold: float) -> list[dict[str, Any]]:
    """The book's customers at or above the alert threshold, highest value at risk first."""
    items, _ = retention.at_risk(
        session, min_risk=threshold, owner_id=owner_id, limit=AT_RISK_SHOWN
    )
    return items


_ACTIVITY_COLUMNS = (
    Event.id,
    Event.person_id,
    Event.type,
    Event.occurred_at,
    Event.channel,
    Event.source,
    Event.amount_minor,
    Event.currency,
    Event.payload,
    Person.first_name,
    Person.last_name,
)


def recent_activity(session: Session, owner_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """The latest events (not derived by the system) of the book's people, in words."""
    latest = (
        select(Event.id)
        .where(
            Event.type.not_in(DERIVED_TYPES),
            Event.occurred_at <= now,
            # An organization's own events (a call logged on the account) have no person.
            Event.person_id.is_not(None),
        )
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(ACTIVITY_SHOWN)
    )
    if owner_id is not None:
        latest = latest.where(
            Event.person_id.in_(select(Person.id).where(Person.owner_id == owner_id))
        )
    # The newest ids first, then their rows and people: the join reads ten people, not
    # one per event of the log.
    ids = latest.subquery()
    query = (
        select(*_ACTIVITY_COLUMNS)
        .join(ids, ids.c.id == Event.id)
        .join(Person, Person.id == Event.person_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )
    rows = session.execute(query).all()
    items = _items_of(session, [r.id for r in rows if r.amount_minor is not None])
    out = []
    for row in rows:
        event = {
            "id": row.id,
            "person_id": row.person_id,
            "person_name": f"{row.first_name} {row.last_name}".strip() or "(no name)",
            "type": row.type,
            "occurred_at": row.occurred_at,
            "channel": row.channel,
            "source": row.source,
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "payload": row.payload or {},
            "items": items.get(row.id, []),
        }
        line = tell(event)
        event.update(headline=line.headline, details=line.details, quote=line.quote)
        del event["payload"], event["items"]  # told in words; the person page has the rest
        out.append(event)
    return out


def _items_of(session: Session, event_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if event_ids:
        query = (
            select(EventItem.event_id, EventItem.sku, EventItem.category, EventItem.quantity)
            .where(EventItem.event_id.in_(event_ids))
            .order_by(EventItem.id)
        )
        for event_id, sku, category, quantity in session.execute(query):
            found.setdefault(event_id, []).append(
                {"sku": sku, "category": category, "quantity": quantity}
            )
    return found


def home(session: Session, actor: Actor, scope: Scope) -> dict[str, Any]:
    """Everything Home shows for ``actor`` in ``scope``: the day's tasks, the customers at
    risk and the activity live; the key figures as last stored (``kpis.as_of``: when the
    ``home.figures`` job computed them), or added up live before it first ran."""
    now = clock.now(session)
    owner_id = actor.user_id if scope == Scope.mine else None
    threshold = load_config(session).risk_threshold
    refreshed = retention.last_refresh(session)
    key_figures = figures.stored(session, owner_id) or figures.live(
        session, owner_id, now, threshold
    )
    return {
        "today": now,
        "scope": scope.value,
        "owner_id": owner_id,
        "tasks": tasks_due(session, owner_id, now),
        "at_risk": {
            "threshold": threshold,
            "as_of": refreshed["as_of"] if refreshed else None,
            "items": at_risk(session, owner_id, threshold),
        },
        "activity": recent_activity(session, owner_id, now),
        "kpis": key_figures,
    }
