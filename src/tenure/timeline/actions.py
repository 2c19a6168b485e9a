"""Recording events from outside as one unit of work: what ``POST /api/v1/events`` runs.

The append functions (``timeline.append``) work in the caller's transaction, since the
JSON lines and email imports append chunk by chunk inside transactions of their own; this
action checks the actor, appends (the event pipeline's reactions run in the same
transaction) and commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenure.identity.permissions import Actor, authorize
from tenure.timeline.append import append_events_json
from tenure.timeline.schemas import EventLimits, IngestResult


def record_events_json(
    *,
    session: Session,
    body: bytes,
    actor: Actor | None,
    max_batch: int,
    limits: EventLimits | None = None,
) -> tuple[IngestResult, bool]:
    """Append a JSON body of events (one or an array) and react, committed; returns the
    result and whether the body was a single event. Any writer may record events."""
    actor_id = authorize(actor)
    result, single = append_events_json(
        session=session, body=body, actor_id=actor_id, max_batch=max_batch, limits=limits
    )
    session.commit()
    return result, single
