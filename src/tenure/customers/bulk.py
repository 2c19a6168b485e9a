"""Writes on many people at once, from the people list: assign an owner, add or remove a
tag, delete. One action per operation, one transaction each, every changed person
audited on their own row (the audit log answers "who changed this person" by person).

Any role that writes may run them (``authorize``); ``actor=None`` is the operator. Adding
people to a static list is the segments' write (``segments.actions.change_members``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers import actions
from tenure.customers.changes import PersonChange, notify
from tenure.customers.models import Person
from tenure.customers.summaries import mark_stale
from tenure.customers.tags import get_or_create_tags
from tenure.db.dialect import id_in
from tenure.db.types import utcnow
from tenure.errors import InvalidInput
from tenure.identity.audit import audit_changed
from tenure.identity.models import User
from tenure.identity.permissions import Actor, authorize

#: People one bulk operation takes at most: a page of the list is 50; the API allows more
#: but keeps one transaction (and its audit rows) bounded.
MAX_PEOPLE = 1000


@dataclass(frozen=True)
class BulkResult:
    """How many people were asked for and how many actually changed (adding a tag they
    already have changes nothing)."""

    requested: int
    changed: int


def selected_people(session: Session, ids: Sequence[int]) -> list[Person]:
    """The people of ``ids``, refusing an empty, oversized or unknown selection by the
    field ``ids``."""
    wanted = sorted(set(ids))
    if not wanted:
        raise InvalidInput("ids", "choose at least one person")
    if len(wanted) > MAX_PEOPLE:
        raise InvalidInput("ids", f"at most {MAX_PEOPLE} people at a time")
    query = select(Person).where(id_in(session.connection(), Person.id, wanted))
    people = list(session.scalars(query.order_by(Person.id)))
    missing = sorted(set(wanted) - {p.id for p in people})
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        raise InvalidInput("ids", f"no person with id {shown}")
    return people


def _tag_name(tag: str) -> str:
    name = tag.strip()
    if not name:
        raise InvalidInput("tag", "name the tag")
    if len(name) > 100:
        raise InvalidInput("tag", "is longer than 100 characters")
    return name


def _audit(
    session: Session, actor_id: int | None, person: Person, field: str, before: Any, after: Any
) -> int:
    """Audit one person's change of ``field``; 1 if it changed, else 0."""
    if audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="person",
        entity_id=person.id,
        before={field: before},
        after={field: after},
    ):
        person.updated_at = utcnow()
        notify(session, [PersonChange(person.id, field, before, after)])
        return 1
    return 0


def assign_owner(
    *, session: Session, ids: Sequence[int], owner_id: int | None, actor: Actor | None
) -> BulkResult:
    """Make ``owner_id`` (None: nobody) the owner of these people; committed."""
    actor_id = authorize(actor)
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise InvalidInput("owner_id", f"no active user {owner_id}")
    people = selected_people(session, ids)
    changed = 0
    for person in people:
        before = person.owner_id
        person.owner_id = owner_id
        changed += _audit(session, actor_id, person, "owner_id", before, owner_id)
    session.commit()
    return BulkResult(len(people), changed)


def add_tag(*, session: Session, ids: Sequence[int], tag: str, actor: Actor | None) -> BulkResult:
    """Tag these people with ``tag`` (created on first use); committed."""
    actor_id = authorize(actor)
    name = _tag_name(tag)
    people = selected_people(session, ids)
    (row,) = get_or_create_tags(session, [name])
    changed = 0
    for person in people:
        before = sorted(t.name for t in person.tags)
        if row not in person.tags:
            person.tags.append(row)
        changed += _audit(
            session, actor_id, person, "tags", before, sorted(t.name for t in person.tags)
        )
    mark_stale(session, [p.id for p in people])
    session.commit()
    return BulkResult(len(people), changed)


def remove_tag(
    *, session: Session, ids: Sequence[int], tag: str, actor: Actor | None
) -> BulkResult:
    """Take ``tag`` off these people (the tag itself stays for others); committed."""
    actor_id = authorize(actor)
    name = _tag_name(tag)
    people = selected_people(session, ids)
    changed = 0
    for person in people:
        before = sorted(t.name for t in person.tags)
        person.tags = [t for t in person.tags if t.name != name]
        changed += _audit(
            session, actor_id, person, "tags", before, sorted(t.name for t in person.tags)
        )
    mark_stale(session, [p.id for p in people])
    session.commit()
    return BulkResult(len(people), changed)


def delete_people(*, session: Session, ids: Sequence[int], actor: Actor | None) -> BulkResult:
    """Delete these people, each audited with what they were; committed."""
    actor_id = authorize(actor)
    people = selected_people(session, ids)
    for person in people:
        actions.delete_person(session=session, person_id=person.id, actor_id=actor_id)
    session.commit()
    return BulkResult(len(people), len(people))
