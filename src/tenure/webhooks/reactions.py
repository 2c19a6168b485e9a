"""The event-pipeline reaction: an event some subscription wants becomes a delivery row
and a delivery job, in the appending transaction (the outbox).

No HTTP call happens here: the job runner POSTs after the events commit, and a rolled-back
append leaves neither deliveries nor jobs. Bulk imports append tens of thousands of
events in chunks, so the reaction is made cheap: the enabled subscriptions are read once
per transaction (cached on the session), and with none, nothing else runs. Events are
read back by id: appends from outside report their ids, and the bulk appends of derived
events (stage changes, segment entries, notes, sent emails) read them back when this
reaction asks (``wants_event_ids``: an enabled subscription wants one of the types), so
with no such subscription PostgreSQL's COPY path stays as fast as before.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tenure.jobs import enqueue
from tenure.timeline.models import Event
from tenure.timeline.pipeline import Appended, register_reaction
from tenure.webhooks.models import ALL_EVENTS, DeliveryStatus, WebhookDelivery, WebhookSubscription

DELIVER_TASK = "webhooks.deliver"
#: After the stages (100) and anything else that only changes Tenure's own tables.
ORDER = 900
_CACHE = "tenure.webhooks.subscriptions"
# Ids per SELECT: well under SQLite's 32,766 bound parameters.
_CHUNK = 5000

Subscribed = list[tuple[int, frozenset[str]]]


def enabled_subscriptions(session: Session) -> Subscribed:
    """(id, event types) of the enabled subscriptions, read once per transaction."""
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return list(cached[1])
    rows = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.event_types)
        .where(WebhookSubscription.enabled.is_(True))
        .order_by(WebhookSubscription.id)
    ).all()
    subscribed = [(row.id, frozenset(row.event_types)) for row in rows]
    session.info[_CACHE] = (transaction, subscribed)
    return subscribed


def forget_subscriptions(session: Session) -> None:
    """Drop the cache (an action that changed subscriptions in this transaction)."""
    session.info.pop(_CACHE, None)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def webhook_body(event: Any) -> str:
    """The JSON sent for one event: ``{"type", "timestamp", "data"}`` as the spec's
    examples shape it; the timestamp is when the event occurred."""
    data = {
        "event_id": event.id,
        "person_id": event.person_id,
        "type": event.type,
        "occurred_at": _iso(event.occurred_at),
        "source": event.source,
        "channel": event.channel,
        "client_event_id": event.client_event_id,
        "amount_minor": event.amount_minor,
        "currency": event.currency,
        "payload": event.payload or {},
    }
    envelope = {"type": event.type, "timestamp": _iso(event.occurred_at), "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)


def _events(session: Session, ids: Sequence[int], types: set[str] | None) -> list[Any]:
    columns = (
        Event.id,
        Event.person_id,
        Event.type,
        Event.occurred_at,
        Event.source,
        Event.channel,
        Event.client_event_id,
        Event.amount_minor,
        Event.currency,
        Event.payload,
    )
    found: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        query = select(*columns).where(Event.id.in_(ids[start : start + _CHUNK]))
        if types is not None:
            query = query.where(Event.type.in_(sorted(types)))
        found.extend(session.execute(query.order_by(Event.id)).all())
    return found


def queue_deliveries(session: Session, appended: Appended) -> int:
    """Write a delivery and enqueue its job for each (event, subscription that wants it);
    returns how many. Runs in the appending transaction."""
    if not appended.event_ids:
        return 0
    subscribed = enabled_subscriptions(session)
    if not subscribed:
        return 0
    everything = any(ALL_EVENTS in types for _, types in subscribed)
    wanted: set[str] | None = None
    if not everything:
        wanted = set().union(*(types for _, types in subscribed)) & set(appended.types)
        if not wanted:
            return 0
    rows: list[dict[str, Any]] = []
    for event in _events(session, sorted(appended.event_ids), wanted):
        body = webhook_body(event)
        for subscription_id, types in subscribed:
            if ALL_EVENTS not in types and event.type not in types:
                continue
            webhook_id = f"msg_{uuid.uuid4().hex}"
            job_id = enqueue(
                session=session,
                task=DELIVER_TASK,
                payload={"webhook_id": webhook_id},
                # Stable per delivery: the job and the webhook-id header name the same message.
                idempotency_key=f"webhook:{webhook_id}",
            )
            rows.append(
                {
                    "subscription_id": subscription_id,
                    "webhook_id": webhook_id,
                    "event_type": event.type,
                    "event_id": event.id,
                    "person_id": event.person_id,
                    "body": body,
                    "status": DeliveryStatus.pending.value,
                    "attempts": 0,
                    "redeliveries": 0,
                    "job_id": job_id,
                }
            )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def subscribed_to(session: Session, types: frozenset[str]) -> bool:
    """Whether an enabled subscription wants any of ``types`` (one read per transaction)."""
    return any(
        ALL_EVENTS in wanted or wanted & types for _, wanted in enabled_subscriptions(session)
    )


def register() -> None:
    register_reaction(
        "webhooks.deliveries", queue_deliveries, order=ORDER, wants_event_ids=subscribed_to
    )
