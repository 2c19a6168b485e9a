"""Appending to the timeline: the one way events are stored, followed by the pipeline.

Every writer of the events table comes through here: the event API and JSON-lines
imports (``append_events``, ``append_events_json``: validated, idempotent, see
``timeline.ingest``), the email import, the demo builder and the capabilities that record
their own events (``append_rows``: lifecycle's stage changes; ``append_from_select``:
segment entries and exits computed in SQL). Each function returns what it stored with
the people it touched, after running the registered reactions (``timeline.pipeline``) in
the caller's transaction: the caller commits events and consequences together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, String, Table, insert, literal, select
from sqlalchemy.orm import Session

from tenure.db.bulk import copy_rows, insert_rows
from tenure.db.types import UTCDateTime, utcnow
from tenure.timeline.ingest import EVENT_COLUMNS, ITEM_COLUMNS, store_events, store_events_json
from tenure.timeline.models import Event, EventItem
from tenure.timeline.pipeline import OUTSIDE, Appended, ids_wanted, interested, run_reactions
from tenure.timeline.schemas import EventLimits, IngestResult

events_table = cast(Table, Event.__table__)
# Index of ``payload`` in EVENT_COLUMNS (COPY writes it as JSON text).
_PAYLOAD = EVENT_COLUMNS.index("payload")
_PERSON = EVENT_COLUMNS.index("person_id")
_TYPE = EVENT_COLUMNS.index("type")


def _react(session: Session, result: IngestResult, actor_id: int | None) -> None:
    run_reactions(
        session,
        Appended(
            person_ids=tuple(result.person_ids),
            types=result._types,
            origin=OUTSIDE,
            actor_id=actor_id,
            event_ids=tuple(result.stored_ids),
        ),
    )


def append_events(
    *,
    session: Session,
    raw_items: Sequence[Any],
    actor_id: int | None,
    limits: EventLimits | None = None,
) -> IngestResult:
    """Validate and store events from outside (dicts in the API's shape), then react.

    Batch semantics are ``timeline.ingest``'s: rejected and duplicate items are listed,
    never dropped silently. ``person_ids`` of the result are the people touched.
    """
    result = store_events(session=session, raw_items=raw_items, actor_id=actor_id, limits=limits)
    _react(session, result, actor_id)
    return result


def append_events_json(
    *,
    session: Session,
    body: bytes,
    actor_id: int | None,
    max_batch: int,
    limits: EventLimits | None = None,
) -> tuple[IngestResult, bool]:
    """``append_events`` for a JSON body (one event or an array); also says whether the
    body was a single event. Raises InvalidInput for a body that is not JSON or too big."""
    result, single = store_events_json(
        session=session, body=body, actor_id=actor_id, max_batch=max_batch, limits=limits
    )
    _react(session, result, actor_id)
    return result, single


def append_rows(
    *,
    session: Session,
    rows: Sequence[tuple[Any, ...]],
    origin: str,
    items: Sequence[Sequence[tuple[str, str | None, int, int | None]]] | None = None,
    actor_id: int | None = None,
    organization_id: int | None = None,
) -> list[int]:
    """Store trusted, already shaped events in bulk, then react; returns the people touched.

    For a capability's own events and the demo's purchase log, where validating each
    event in Python would cost more than the write. ``rows`` are tuples in
    ``timeline.ingest.EVENT_COLUMNS`` order; ``items``, when given, holds each event's line
    items as (sku, category, quantity, unit_price_minor). ``origin`` names the writer
    (reactions skip their own events). On PostgreSQL events without items go by COPY.
    ``organization_id`` puts every row on that organization's own timeline; such a row's
    person may be None (an activity logged on the organization itself), and touches no one.
    """
    if not rows:
        return []
    session.flush()
    connection = session.connection()
    columns: tuple[str, ...] = EVENT_COLUMNS
    if organization_id is not None:
        columns = (*EVENT_COLUMNS, "organization_id")
        rows = [(*row, organization_id) for row in rows]
    types = frozenset(row[_TYPE] for row in rows)
    want_ids = ids_wanted(session, origin, types)
    ids: list[int] = []
    if items is None and not want_ids and connection.dialect.name == "postgresql":
        copy_rows(connection, "events", columns, rows, json_column=_PAYLOAD)
    else:
        returning = items is not None or want_ids
        ids = insert_rows(connection, events_table, columns, rows, return_ids=returning)
        if items is not None:
            item_rows = [
                (event_id, *item)
                for event_id, event_items in zip(ids, items, strict=True)
                for item in event_items
            ]
            insert_rows(connection, EventItem.__table__, ITEM_COLUMNS, item_rows)
    people = sorted({row[_PERSON] for row in rows if row[_PERSON] is not None})
    run_reactions(
        session,
        Appended(
            person_ids=tuple(people),
            types=types,
            origin=origin,
            actor_id=actor_id,
            event_ids=tuple(ids) if want_ids else (),
        ),
    )
    return people


def append_from_select(
    *,
    session: Session,
    people: Select[Any],
    occurred_at: datetime,
    type: str,
    source: str,
    payload: dict[str, Any],
    origin: str,
) -> int:
    """Append one ``type`` event per person of the one-column select ``people``, in SQL.

    For events computed as a set (segment entries and exits) whose person ids never
    travel through Python; returns how many were stored. The people are read back only
    when a registered reaction listens to ``origin``, the events' ids (RETURNING) only
    when one wants them (``pipeline.ids_wanted``).
    """
    column = next(iter(people.subquery("appended_people").c))
    rows = select(
        column,
        literal(occurred_at, UTCDateTime),
        literal(utcnow(), UTCDateTime),
        literal(type, String),
        literal(source, String),
        literal(payload, events_table.c.payload.type),
    ).order_by(column)
    connection = session.connection()
    person_ids: list[int] = []
    if interested(origin):
        person_ids = sorted(set(connection.scalars(people)))
    want_ids = bool(person_ids) and ids_wanted(session, origin, frozenset({type}))
    statement = insert(events_table).from_select(
        ["person_id", "occurred_at", "received_at", "type", "source", "payload"], rows
    )
    event_ids: list[int] = []
    if want_ids:
        event_ids = sorted(connection.scalars(statement.returning(events_table.c.id)))
        stored = len(event_ids)
    else:
        # Without preserve_rowcount psycopg's dialect reports -1 for INSERT ... SELECT.
        options = statement.execution_options(preserve_rowcount=True)
        stored = int(connection.execute(options).rowcount)
    if person_ids:
        run_reactions(
            session,
            Appended(
                person_ids=tuple(person_ids),
                types=frozenset({type}),
                origin=origin,
                event_ids=tuple(event_ids),
            ),
        )
    return stored
