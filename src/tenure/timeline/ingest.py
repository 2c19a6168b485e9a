"""Storing events: validation per item, idempotency on (source, client_event_id).

Called only by ``timeline.append``, which runs the event pipeline's reactions after the
events are stored; nothing else writes to the events table.

Batch semantics (documented in the API): every item is validated on its own. Valid items
are stored, invalid ones are returned in ``rejected`` with their index, field and reason,
and repeats of an already stored (source, client_event_id) are returned in ``duplicates``
with the id of the stored event. Nothing is dropped without being listed, so a client can
fix the rejected items and resend the whole batch safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.customers.identities import normalize_email_identity
from tenure.customers.models import Person
from tenure.customers.resolve import people_for_emails
from tenure.db.bulk import insert_rows
from tenure.db.dialect import member_of
from tenure.db.types import utcnow
from tenure.errors import InvalidInput
from tenure.identity.audit import record_audit
from tenure.timeline.models import Event, EventItem
from tenure.timeline.schemas import (
    DuplicateEvent,
    EventIn,
    EventLimits,
    IngestResult,
    ItemProblem,
    RejectedEvent,
)
from tenure.validation import parse_json

_event_adapter: TypeAdapter[EventIn] = TypeAdapter(EventIn)
_batch_adapter: TypeAdapter[list[EventIn]] = TypeAdapter(list[EventIn])


def _problems(error: ValidationError) -> list[ItemProblem]:
    """Each error under the field it is about: rules over several fields name theirs."""
    return [
        ItemProblem(
            field=".".join(str(part) for part in e["loc"])
            or str((e.get("ctx") or {}).get("field") or "(item)"),
            reason=e["msg"].removeprefix("Value error, "),
        )
        for e in error.errors(include_url=False)
    ]


def _existing_event_ids(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    by_source: dict[str, list[str]] = {}
    for source, client_id in keys:
        by_source.setdefault(source, []).append(client_id)
    found: dict[tuple[str, str], int] = {}
    connection = session.connection()
    for source, client_ids in by_source.items():
        rows = connection.execute(
            select(Event.client_event_id, Event.id).where(
                Event.source == source,
                member_of(connection, Event.client_event_id, client_ids),
            )
        )
        for stored_id, event_id in rows:
            found[(source, str(stored_id))] = event_id
    return found


def _existing_people(session: Session, person_ids: set[int]) -> set[int]:
    if not person_ids:
        return set()
    connection = session.connection()
    query = select(Person.id).where(member_of(connection, Person.id, sorted(person_ids)))
    return set(connection.scalars(query))


def _validate(
    raw_items: Sequence[Any], limits: EventLimits
) -> tuple[list[tuple[int, EventIn]], list[RejectedEvent]]:
    """Valid events with their batch index, and the rejected ones with their errors."""
    context = limits.context()
    try:
        # One call for the whole batch is the common, fast case.
        return list(enumerate(_batch_adapter.validate_python(raw_items, context=context))), []
    except ValidationError:
        pass
    valid: list[tuple[int, EventIn]] = []
    rejected: list[RejectedEvent] = []
    for index, raw in enumerate(raw_items):
        try:
            valid.append((index, _event_adapter.validate_python(raw, context=context)))
        except ValidationError as error:
            client_id = raw.get("client_event_id") if isinstance(raw, dict) else None
            rejected.append(
                RejectedEvent(
                    index=index,
                    client_event_id=client_id if isinstance(client_id, str) else None,
                    errors=_problems(error),
                )
            )
    return valid, rejected


def store_events(
    *,
    session: Session,
    raw_items: Sequence[Any],
    actor_id: int | None,
    limits: EventLimits | None = None,
) -> IngestResult:
    """Validate and append ``raw_items``; see the module docstring for batch semantics."""
    valid, rejected = _validate(raw_items, limits or EventLimits())
    return _store_validated(
        session=session, valid=valid, rejected=rejected, received=len(raw_items), actor_id=actor_id
    )


def store_events_json(
    *,
    session: Session,
    body: bytes,
    actor_id: int | None,
    max_batch: int,
    limits: EventLimits | None = None,
) -> tuple[IngestResult, bool]:
    """Ingest a JSON body holding one event or an array; returns the result and whether
    the body was a single event. Raises InvalidInput for a body that is not JSON or too big.
    """
    limits = limits or EventLimits()
    if not body.strip():
        raise InvalidInput("body", "is empty: send an event object or an array of events")
    if body.lstrip()[:1] == b"[":
        try:
            # Parsing and validating in one pass in pydantic-core skips building a Python
            # dict per event: the common case of a fully valid batch.
            events = _batch_adapter.validate_json(body, context=limits.context())
        except ValidationError:
            pass
        else:
            if len(events) > max_batch:
                raise InvalidInput("body", f"a batch holds at most {max_batch} events")
            result = _store_validated(
                session=session,
                valid=list(enumerate(events)),
                rejected=[],
                received=len(events),
                actor_id=actor_id,
            )
            return result, False
    try:
        parsed = parse_json(body)
    except ValueError as error:
        raise InvalidInput("body", f"is not valid JSON ({error})")
    single = isinstance(parsed, dict)
    items = [parsed] if single else parsed
    if not isinstance(items, list):
        raise InvalidInput("body", "must be an event object or an array of events")
    if len(items) > max_batch:
        raise InvalidInput("body", f"a batch holds at most {max_batch} events")
    result = store_events(session=session, raw_items=items, actor_id=actor_id, limits=limits)
    return result, single


def _store_validated(
    *,
    session: Session,
    valid: list[tuple[int, EventIn]],
    rejected: list[RejectedEvent],
    received: int,
    actor_id: int | None,
) -> IngestResult:
    for attempt in range(2):
        try:
            with session.begin_nested():
                return _ingest_once(
                    session=session,
                    valid=valid,
                    rejected=list(rejected),
                    received=received,
                    actor_id=actor_id,
                )
        except IntegrityError:
            # A concurrent request stored one of these keys between our check and insert:
            # run again, and the keys now read as duplicates.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    *,
    session: Session,
    valid: list[tuple[int, EventIn]],
    rejected: list[RejectedEvent],
    received: int,
    actor_id: int | None,
) -> IngestResult:
    duplicates: list[DuplicateEvent] = []

    keys = {(e.source, e.client_event_id) for _, e in valid if e.client_event_id is not None}
    stored_before = _existing_event_ids(session, keys) if keys else {}
    known_people = _existing_people(session, {e.person_id for _, e in valid if e.person_id})

    emails: dict[int, str] = {}
    for index, event in valid:
        if event.email is not None:
            try:
                emails[index] = normalize_email_identity(event.email, field="email")
            except InvalidInput as error:
                emails[index] = ""
                rejected.append(
                    RejectedEvent(
                        index=index,
                        client_event_id=event.client_event_id,
                        errors=[ItemProblem(field="email", reason=error.reason)],
                    )
                )

    to_store: list[tuple[int, EventIn]] = []
    seen_in_batch: set[tuple[str, str]] = set()
    for index, event in valid:
        if emails.get(index) == "":
            continue
        if event.person_id is not None and event.person_id not in known_people:
            rejected.append(
                RejectedEvent(
                    index=index,
                    client_event_id=event.client_event_id,
                    errors=[ItemProblem(field="person_id", reason=f"no person {event.person_id}")],
                )
            )
            continue
        if event.client_event_id:
            key = (event.source, event.client_event_id)
            if key in stored_before or key in seen_in_batch:
                duplicates.append(
                    DuplicateEvent(
                        index=index,
                        client_event_id=event.client_event_id,
                        event_id=stored_before.get(key),
                    )
                )
                continue
            seen_in_batch.add(key)
        to_store.append((index, event))

    email_people = people_for_emails(
        session=session, emails={emails[i] for i, _ in to_store if i in emails}, actor_id=actor_id
    )
    stored_ids, person_ids = _insert(session, to_store, emails, email_people)
    rejected.sort(key=lambda r: r.index)
    if stored_ids:
        record_audit(
            session=session,
            actor_id=actor_id,
            action="ingest",
            entity_type="event_batch",
            entity_id=f"{stored_ids[0]}-{stored_ids[-1]}",
            changes={
                "stored": {"before": None, "after": len(stored_ids)},
                "duplicates": {"before": None, "after": len(duplicates)},
                "rejected": {"before": None, "after": len(rejected)},
            },
        )
    result = IngestResult(
        received=received,
        stored=len(stored_ids),
        duplicates=duplicates,
        rejected=rejected,
        stored_ids=stored_ids,
        person_ids=person_ids,
    )
    result._types = frozenset(event.type for _, event in to_store)
    return result


EVENT_COLUMNS = (
    "person_id",
    "occurred_at",
    "received_at",
    "type",
    "channel",
    "source",
    "client_event_id",
    "amount_minor",
    "currency",
    "payload",
)
ITEM_COLUMNS = ("event_id", "sku", "category", "quantity", "unit_price_minor")


def _insert(
    session: Session,
    to_store: list[tuple[int, EventIn]],
    emails: dict[int, str],
    email_people: dict[str, int],
) -> tuple[list[int], list[int]]:
    """Insert the events and their items; their ids in batch order and their people."""
    if not to_store:
        return [], []
    now = utcnow()
    rows = [
        (
            event.person_id if event.person_id is not None else email_people[emails[index]],
            event.occurred_at,
            now,
            event.type,
            event.channel,
            event.source,
            event.client_event_id,
            event.amount_minor,
            event.currency,
            event.payload,
        )
        for index, event in to_store
    ]
    connection = session.connection()
    ids = insert_rows(connection, Event.__table__, EVENT_COLUMNS, rows, return_ids=True)
    item_rows = [
        (event_id, item.sku, item.category, item.quantity, item.unit_price_minor)
        for event_id, (_, event) in zip(ids, to_store, strict=True)
        for item in event.items
    ]
    insert_rows(connection, EventItem.__table__, ITEM_COLUMNS, item_rows)
    return ids, sorted({row[0] for row in rows})
