"""Finding people by an email identity, creating the ones nobody knows yet.

Used when something arrives for an address before its person exists (an event posted
with ``email`` instead of ``person_id``, an imported message): the customers capability
owns who a person is, so other packages ask here rather than creating people themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, IdentityKind, Person
from tenure.db.dialect import member_of
from tenure.identity.audit import record_audit
from tenure.workspace import clock


def people_for_emails(
    *, session: Session, emails: Iterable[str], actor_id: int | None
) -> dict[str, int]:
    """Person id per normalized email; an unknown email gets a new person (audited)."""
    wanted = set(emails)
    found: dict[str, int] = {}
    if wanted:
        connection = session.connection()
        rows = connection.execute(
            select(Identity.value, Identity.person_id).where(
                Identity.kind == IdentityKind.email.value,
                member_of(connection, Identity.value, sorted(wanted)),
            )
        )
        found.update({value: person_id for value, person_id in rows})
    now = clock.now(session)
    for email in sorted(wanted - found.keys()):
        person = Person(search_text=email, created_at=now)
        person.identities.append(
            Identity(kind="email", namespace="", value=email, original=email, is_primary=True)
        )
        session.add(person)
        session.flush()
        record_audit(
            session=session,
            actor_id=actor_id,
            action="create",
            entity_type="person",
            entity_id=person.id,
            changes={"identities": {"before": None, "after": [f"email::{email}"]}},
        )
        found[email] = person.id
    return found
