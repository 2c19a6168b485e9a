"""Writes on the timeline as units of work: recording events from outside (what
``POST /api/v1/events`` runs), logging an activity and adding a note.

The append functions (``timeline.append``) work in the caller's transaction, since the
JSON lines and email imports append chunk by chunk inside transactions of their own; this
action checks the actor, appends (the event pipeline's reactions run in the same
transaction) and commits.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.customers.models import Note
from tenure.customers.schemas import ActivityCreate, NoteCreate
from tenure.identity.permissions import Actor, authorize
from tenure.timeline.activities import Logged, add_note, log_activity
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


def record_activity(
    *,
    session: Session,
    data: ActivityCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Logged:
    """Log a call, meeting or email on a person or on an organization itself (one event on
    its timeline, ``timeline.activities.log_activity``), committed. Any writer may."""
    logged = log_activity(
        session=session,
        data=data,
        actor=actor,
        person_id=person_id,
        organization_id=organization_id,
    )
    session.commit()
    return logged


def record_note(
    *,
    session: Session,
    data: NoteCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Note:
    """Add a note on a person or an organization: the note and its ``note_added`` event on
    the timeline, audited, committed. Any writer may."""
    actor_id = authorize(actor)
    note = add_note(
        session=session,
        data=data,
        actor_id=actor_id,
        person_id=person_id,
        organization_id=organization_id,
    )
    session.commit()
    return note
