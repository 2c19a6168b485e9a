"""What people at the company did with a customer, on the customer's timeline.

A logged call, meeting or email is an event (type ``call``, ``meeting`` or ``email``,
source ``logged``), and a note added on a person appends a ``note_added`` event, both
through ``timeline.append`` in the caller's transaction, so the timeline tells the whole
story and the pipeline's reactions see them. This lives in the timeline (not in
``customers``) because the customer repository sits below the event log and may not
import it.

An event belongs to a person or, for an activity or note logged on an organization
itself, to the organization (``events.organization_id``, migration 0012): one event on
the organization's own timeline, which also shows its people's events
(``timeline.queries.organization_timeline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tenure.customers.activities import add_note as store_note
from tenure.customers.models import Note, Organization, Person
from tenure.customers.schemas import ActivityCreate, NoteCreate
from tenure.db.types import utcnow
from tenure.errors import InvalidInput, NotFound
from tenure.identity.permissions import Actor, authorize
from tenure.timeline.append import append_rows
from tenure.workspace import clock

ORIGIN = "activities"
SOURCE = "logged"
NOTE_ADDED = "note_added"
ACTIVITY_CHANNELS = {"call": "phone", "meeting": "meeting", "email": "email"}
# A note's text on the timeline is a preview; the note itself keeps it whole.
NOTE_PREVIEW_CHARS = 500


@dataclass(frozen=True)
class Logged:
    """Where a logged activity landed: a person's or an organization's timeline, and when."""

    person_ids: list[int]
    organization_id: int | None
    occurred_at: datetime


def _subject(
    session: Session, person_id: int | None, organization_id: int | None
) -> tuple[int | None, int | None]:
    """The (person, organization) an activity or note is logged on: exactly one of them."""
    if (person_id is None) == (organization_id is None):
        raise InvalidInput("subject", "log it on a person or on an organization")
    if person_id is not None and session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise NotFound("organization", organization_id)
    return person_id, organization_id


def _occurred_at(session: Session, given: datetime | None) -> datetime:
    if given is None:
        return clock.now(session)
    if given.tzinfo is None:
        raise InvalidInput("occurred_at", "needs a timezone offset")
    return given


def _activity_payload(data: ActivityCreate, actor_id: int | None) -> dict[str, Any]:
    return {
        "direction": data.direction.value,
        "outcome": data.outcome,
        "duration_minutes": data.duration_minutes,
        "notes": data.notes,
        "logged_by_id": actor_id,
    }


def log_activity(
    *,
    session: Session,
    data: ActivityCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Logged:
    """Append the activity to the timeline of the person or of the organization itself, in
    the caller's transaction. Refuses read-only actors (PermissionDenied)."""
    actor_id = authorize(actor)
    person_id, organization_id = _subject(session, person_id, organization_id)
    occurred_at = _occurred_at(session, data.occurred_at)
    kind = data.kind.value
    row = (
        person_id,
        occurred_at,
        utcnow(),
        kind,
        ACTIVITY_CHANNELS[kind],
        SOURCE,
        None,
        None,
        None,
        _activity_payload(data, actor_id),
    )
    people = append_rows(
        session=session,
        rows=[row],
        origin=ORIGIN,
        actor_id=actor_id,
        organization_id=organization_id,
    )
    return Logged(person_ids=people, organization_id=organization_id, occurred_at=occurred_at)


def add_note(
    *,
    session: Session,
    data: NoteCreate,
    actor_id: int | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Note:
    """Store the note (``customers.activities.add_note``, audited) and append a
    ``note_added`` event to the person's or the organization's timeline in the same
    transaction."""
    person_id, organization_id = _subject(session, person_id, organization_id)
    note = store_note(
        session=session,
        data=data,
        actor_id=actor_id,
        person_id=person_id,
        organization_id=organization_id,
    )
    payload = {"note_id": note.id, "body": note.body[:NOTE_PREVIEW_CHARS], "author_id": actor_id}
    row = (
        person_id,
        note.created_at,
        utcnow(),
        NOTE_ADDED,
        None,
        SOURCE,
        None,
        None,
        None,
        payload,
    )
    append_rows(
        session=session,
        rows=[row],
        origin=ORIGIN,
        actor_id=actor_id,
        organization_id=organization_id,
    )
    return note
