"""Writes on one person, one unit of work each: what the API and the pages run.

``customers.actions`` holds the same writes in the caller's transaction (imports, the
demo builder and tests compose them); these check the actor (any role that writes:
``identity.permissions.authorize``), call them and commit. Creating a person goes through
the duplicate check at the door (``dedup.actions.create_person``), which sits above this
package. ``actor=None`` is the operator at the command line.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenure.customers import actions, activities
from tenure.customers.models import ConsentRecord, Person, Task
from tenure.customers.schemas import ConsentIn, PersonUpdate, TaskCreate
from tenure.identity.permissions import Actor, authorize


def update_person(
    *,
    session: Session,
    person_id: int,
    data: PersonUpdate,
    actor: Actor | None,
    default_region: str,
) -> Person:
    """Change the fields ``data`` gives (audited when anything changed); committed."""
    actor_id = authorize(actor)
    person = actions.update_person(
        session=session,
        person_id=person_id,
        data=data,
        actor_id=actor_id,
        default_region=default_region,
    )
    session.commit()
    return person


def delete_person(*, session: Session, person_id: int, actor: Actor | None) -> None:
    """Delete the person with their identities, notes, tasks and events (audited with
    what they were); committed."""
    actor_id = authorize(actor)
    actions.delete_person(session=session, person_id=person_id, actor_id=actor_id)
    session.commit()


def record_consent(
    *, session: Session, person_id: int, consent: ConsentIn, actor: Actor | None
) -> ConsentRecord:
    """Append a grant or withdrawal to the person's consent history; committed."""
    actor_id = authorize(actor)
    row = actions.record_consent(
        session=session, person_id=person_id, consent=consent, actor_id=actor_id
    )
    session.commit()
    return row


def create_task(
    *,
    session: Session,
    data: TaskCreate,
    actor: Actor | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Task:
    """A task on a person (or an organization), assigned to whoever ``data`` names;
    committed."""
    actor_id = authorize(actor)
    task = activities.create_task(
        session=session,
        data=data,
        actor_id=actor_id,
        person_id=person_id,
        organization_id=organization_id,
    )
    session.commit()
    return task
