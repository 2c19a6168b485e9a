"""Reads of the event log: a person's timeline, order aggregates and the 360 view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.customers.queries import current_consents, get_person, notes_for, tasks_for
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.errors import NotFound
from tenure.timeline.models import Event, EventItem

RECENT_EVENTS_IN_360 = 20


def _items_by_event(session: Session, event_ids: Sequence[int]) -> dict[int, list[dict]]:
    items: dict[int, list[dict]] = {}
    if event_ids:
        rows = session.execute(
            select(EventItem).where(EventItem.event_id.in_(event_ids)).order_by(EventItem.id)
        ).scalars()
        for item in rows:
            items.setdefault(item.event_id, []).append(
                {
                    "sku": item.sku,
                    "category": item.category,
                    "quantity": item.quantity,
                    "unit_price_minor": item.unit_price_minor,
                }
            )
    return items


def _event_dicts(session: Session, events: Sequence[Event]) -> list[dict[str, Any]]:
    items = _items_by_event(session, [e.id for e in events if e.amount_minor is not None])
    return [
        {
            "id": e.id,
            "person_id": e.person_id,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "channel": e.channel,
            "source": e.source,
            "client_event_id": e.client_event_id,
            "amount_minor": e.amount_minor,
            "currency": e.currency,
            "items": items.get(e.id, []),
            "payload": e.payload or {},
        }
        for e in events
    ]


def person_timeline(
    session: Session,
    *,
    person_id: int,
    types: Sequence[str] = (),
    channels: Sequence[str] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Events newest first, keyset-paged; raises NotFound for an unknown person."""
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    query = select(Event).where(Event.person_id == person_id)
    if types:
        query = query.where(Event.type.in_(types))
    if channels:
        query = query.where(Event.channel.in_(channels))
    query = apply_keyset(
        query,
        sort_column=Event.occurred_at,
        id_column=Event.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )
    events = list(session.scalars(query))
    more = len(events) > limit
    events = events[:limit]
    next_cursor = encode_cursor(events[-1].occurred_at, events[-1].id) if more else None
    return _event_dicts(session, events), next_cursor


def order_summary(session: Session, person_id: int) -> dict[str, Any]:
    """Order count, first and last order, and net revenue per currency (orders - refunds)."""
    rows = session.execute(
        select(
            Event.type,
            Event.currency,
            func.count(),
            func.sum(Event.amount_minor),
            func.min(Event.occurred_at),
            func.max(Event.occurred_at),
        )
        .where(Event.person_id == person_id, Event.type.in_(("order", "refund")))
        .group_by(Event.type, Event.currency)
    ).all()
    order_count = 0
    first = last = None
    revenue: dict[str, int] = {}
    for kind, currency, count, total, earliest, latest in rows:
        sign = 1 if kind == "order" else -1
        revenue[currency] = revenue.get(currency, 0) + sign * int(total or 0)
        if kind == "order":
            order_count += count
            first = earliest if first is None or earliest < first else first
            last = latest if last is None or latest > last else last
    return {
        "order_count": order_count,
        "revenue": [{"currency": c, "amount_minor": a} for c, a in sorted(revenue.items())],
        "first_order_at": first,
        "last_order_at": last,
    }


def person_360(session: Session, person_id: int) -> dict[str, Any]:
    """Everything known about a person on one page: the customer 360 view."""
    person = get_person(session, person_id)
    recent, _ = person_timeline(session, person_id=person_id, limit=RECENT_EVENTS_IN_360)
    return {
        **person,
        "consents": current_consents(session, person_id),
        "orders": order_summary(session, person_id),
        "recent_events": recent,
        "open_tasks": [
            {"id": t.id, "title": t.title, "due_at": t.due_at, "assignee_id": t.assignee_id}
            for t in tasks_for(session, person_id=person_id)
            if t.done_at is None
        ],
        "notes": [
            {"id": n.id, "body": n.body, "author_id": n.author_id, "created_at": n.created_at}
            for n in notes_for(session, person_id=person_id)[:5]
        ],
    }
