"""Writes on the timeline as units of work: recording events from outside (what
``POST /api/v1/events`` runs), a note and a logged call, meeting or email.

The append functions (``timeline.append``) and ``timeline.activities`` work in the
caller's transaction, since the JSON lines and email imports append chunk by chunk inside
transactions of their own; these actions check the actor, append (the event pipeline's
reactions run in the same transaction) and commit.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.customers.models import Note
from tenure.customers.schemas import ActivityCreate, NoteCreate
from tenure.identity.permissions import Actor, authorize
from tenure.timeline import activities
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
    result and whether the body was a single event. Any writer may record events.

    Two requests carrying the same (source, client_event_id), or the same new email, can
    both find it absent and both insert: on PostgreSQL the second waits for the first to
    commit and then fails on the unique constraint. The whole unit is then redone once the
    other has committed; its rows now read as duplicates, so nothing is stored twice.
    (SQLite writers hold the write lock from the start and never race.)
    """
    actor_id = authorize(actor)
    for attempt in range(_ATTEMPTS):
        try:
            result, single = append_events_json(
                session=session, body=body, actor_id=actor_id, max_batch=max_batch, limits=limits
            )
            session.commit()
            return result, single
        except IntegrityError:
            session.rollback()
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# Each retry follows a commit of a competing request, so a few attempts always suffice in
# practice; a persistent conflict is a bug and surfaces.
_ATTEMPTS = 4


def add_note(
    *,
    session: Session,
    data: NoteCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Note:
    """Store a note (audited) and, on a person, its ``note_added`` event; committed."""
    actor_id = authorize(actor)
    note = activities.add_note(
        session=session,
        data=data,
        actor_id=actor_id,
        person_id=person_id,
        organization_id=organization_id,
    )
    session.commit()
    return note


def log_activity(
    *,
    session: Session,
    data: ActivityCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> activities.Logged:
    """Append a logged call, meeting or email to the timeline(s) it belongs on; committed."""
    done = activities.log_activity(
        session=session,
        data=data,
        actor=actor,
        person_id=person_id,
        organization_id=organization_id,
    )
    session.commit()
    return done
