"""Reads of the event log: a person's and an organization's timeline, order aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.orm import Session

from tenure.customers.models import Organization, Person
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.errors import NotFound
from tenure.timeline.models import Event, EventItem

RECENT_EVENTS_IN_360 = 20


def _items_by_event(session: Session, event_ids: Sequence[int]) -> dict[int, list[dict]]:
    items: dict[int, list[dict]] = {}
    if event_ids:
        rows = session.connection().execute(_ITEMS_OF_EVENTS, {"ids": list(event_ids)})
        for row in rows:
            item = row._asdict()
            items.setdefault(item.pop("event_id"), []).append(item)
    return items


_EVENT_COLUMNS = (
    Event.id,
    Event.person_id,
    Event.organization_id,
    Event.type,
    Event.occurred_at,
    Event.channel,
    Event.source,
    Event.client_event_id,
    Event.amount_minor,
    Event.currency,
    Event.payload,
)


def _event_dicts(session: Session, events: Sequence[Any]) -> list[dict[str, Any]]:
    items = _items_by_event(session, [e.id for e in events if e.amount_minor is not None])
    return [
        {**e._asdict(), "items": items.get(e.id, []), "payload": e.payload or {}} for e in events
    ]


def person_timeline(
    session: Session,
    *,
    person_id: int,
    types: Sequence[str] = (),
    channels: Sequence[str] = (),
    cursor: str | None = None,
    limit: int = 50,
    check_person: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """Events newest first, keyset-paged; raises NotFound for an unknown person."""
    connection = session.connection()
    if check_person and connection.scalar(_PERSON_EXISTS, {"person_id": person_id}) is None:
        raise NotFound("person", person_id)
    if not types and not channels and not cursor and limit == RECENT_EVENTS_IN_360:
        events = connection.execute(_RECENT_EVENTS, {"person_id": person_id}).all()
        return _page(session, events, limit)
    query = select(*_EVENT_COLUMNS).where(Event.person_id == person_id)
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
    return _page(session, connection.execute(query).all(), limit)


def organization_timeline(
    session: Session,
    *,
    organization_id: int,
    types: Sequence[str] = (),
    leave_out: Sequence[str] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """The organization's story, newest first and keyset-paged: the events logged on it
    (calls, meetings, emails, notes) with those of its people, each of theirs naming the
    person (``person_name``); only ``types`` if given, never ``leave_out``. Raises
    NotFound for an unknown organization."""
    if session.get(Organization, organization_id) is None:
        raise NotFound("organization", organization_id)
    members = select(Person.id).where(Person.organization_id == organization_id)
    branches = []
    # Each side seeks its own index (organization, time) and (person, time) and stops
    # after a page; the union of two pages is sorted once.
    for subject in (Event.organization_id == organization_id, Event.person_id.in_(members)):
        query = select(*_EVENT_COLUMNS).where(subject)
        if types:
            query = query.where(Event.type.in_(types))
        if leave_out:
            query = query.where(Event.type.not_in(leave_out))
        branch = apply_keyset(
            query,
            sort_column=Event.occurred_at,
            id_column=Event.id,
            descending=True,
            cursor=cursor,
            limit=limit,
        )
        branches.append(select(branch.subquery()))
    both = union_all(*branches).subquery("org_events")
    merged = select(both).order_by(both.c.occurred_at.desc(), both.c.id.desc()).limit(limit + 1)
    events, next_cursor = _page(session, session.connection().execute(merged).all(), limit)
    names = _person_names(session, {e["person_id"] for e in events if e["person_id"]})
    for event in events:
        event["person_name"] = names.get(event["person_id"])
    return events, next_cursor


def _person_names(session: Session, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(person_ids))
    )
    return {pid: f"{first} {last}".strip() or f"person {pid}" for pid, first, last in rows}


def _page(
    session: Session, events: Sequence[Any], limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    more = len(events) > limit
    events = events[:limit]
    next_cursor = encode_cursor(events[-1].occurred_at, events[-1].id) if more else None
    return _event_dicts(session, events), next_cursor


def order_summary(session: Session, person_id: int) -> dict[str, Any]:
    """Order count, first and last order, and net revenue per currency (orders - refunds)."""
    rows = session.connection().execute(_ORDER_TOTALS, {"person_id": person_id}).all()
    return fold_order_totals(rows)


def fold_order_totals(rows: Sequence[Any]) -> dict[str, Any]:
    order_count = 0
    first = last = None
    revenue: dict[str | None, int] = {}
    for kind, currency, count, total, earliest, latest in rows:
        sign = 1 if kind == "order" else -1
        revenue[currency] = revenue.get(currency, 0) + sign * int(total or 0)
        if kind == "order":
            order_count += count
            first = earliest if first is None or earliest < first else first
            last = latest if last is None or latest > last else last
    return {
        "order_count": order_count,
        "revenue": [
            {"currency": c, "amount_minor": a}
            for c, a in sorted(revenue.items(), key=lambda item: item[0] or "")
        ],
        "first_order_at": first,
        "last_order_at": last,
    }


_PERSON_EXISTS = select(Person.id).where(Person.id == bindparam("person_id"))
#: An event's line items as the timeline and the read model show them (event id first).
EVENT_ITEM_COLUMNS = (
    EventItem.event_id,
    EventItem.sku,
    EventItem.category,
    EventItem.quantity,
    EventItem.unit_price_minor,
)
_ITEMS_OF_EVENTS = (
    select(*EVENT_ITEM_COLUMNS)
    .where(EventItem.event_id.in_(bindparam("ids", expanding=True)))
    .order_by(EventItem.id)
)
_RECENT_EVENTS = (
    select(*_EVENT_COLUMNS)
    .where(Event.person_id == bindparam("person_id"))
    .order_by(Event.occurred_at.desc(), Event.id.desc())
    .limit(RECENT_EVENTS_IN_360 + 1)
)
_ORDER_TOTALS = (
    select(
        Event.type,
        Event.currency,
        func.count(),
        func.sum(Event.amount_minor),
        func.min(Event.occurred_at),
        func.max(Event.occurred_at),
    )
    .where(Event.person_id == bindparam("person_id"), Event.type.in_(("order", "refund")))
    .group_by(Event.type, Event.currency)
)
