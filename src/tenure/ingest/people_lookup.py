"""Reading what the database knows about a chunk's people: identity owners and current state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import ConsentRecord, Identity, Person, Tag, person_tags
from tenure.ingest.drafts import PersonDraft, person_name_key
from tenure.ingest.person_state import PersonState
from tenure.ingest.writes import in_batches


@dataclass
class Known:
    unique: dict[tuple[str, str, str], int]
    phones: dict[str, list[tuple[int, str]]]


def load_identities(session: Session, drafts: Sequence[PersonDraft]) -> Known:
    by_kind: dict[str, set[str]] = {}
    for draft in drafts:
        for identity in draft.identities:
            by_kind.setdefault(identity.kind, set()).add(identity.value)
    unique: dict[tuple[str, str, str], int] = {}
    phones: dict[str, list[tuple[int, str]]] = {}
    for kind, values in by_kind.items():
        for chunk in in_batches(sorted(values)):
            if kind == "phone":
                phone_rows = session.execute(
                    select(Identity.value, Person.id, Person.first_name, Person.last_name)
                    .join(Person, Person.id == Identity.person_id)
                    .where(Identity.kind == "phone", Identity.value.in_(chunk))
                    .order_by(Person.id)
                )
                for value, person_id, first, last in phone_rows:
                    phones.setdefault(value, []).append((person_id, person_name_key(first, last)))
            else:
                rows = session.execute(
                    select(Identity.namespace, Identity.value, Identity.person_id).where(
                        Identity.kind == kind, Identity.value.in_(chunk)
                    )
                )
                for namespace, value, person_id in rows:
                    unique[(kind, namespace, value)] = person_id
    return Known(unique=unique, phones=phones)


def load_people(session: Session, person_ids: set[int]) -> dict[int, PersonState]:
    states: dict[int, PersonState] = {}
    ids = sorted(person_ids)
    for chunk in in_batches(ids):
        for row in session.execute(
            select(
                Person.id,
                Person.first_name,
                Person.last_name,
                Person.job_title,
                Person.organization_id,
                Person.attributes,
            ).where(Person.id.in_(chunk))
        ):
            states[row.id] = PersonState(
                person_id=row.id,
                first_name=row.first_name,
                last_name=row.last_name,
                job_title=row.job_title,
                organization_id=row.organization_id,
                attributes=dict(row.attributes or {}),
            )
        for person_id, kind, namespace, value, original, primary in session.execute(
            select(
                Identity.person_id,
                Identity.kind,
                Identity.namespace,
                Identity.value,
                Identity.original,
                Identity.is_primary,
            ).where(Identity.person_id.in_(chunk))
        ):
            states[person_id].identities[(kind, namespace, value)] = (original, primary)
        for person_id, tag in session.execute(
            select(person_tags.c.person_id, Tag.name)
            .join(Tag, Tag.id == person_tags.c.tag_id)
            .where(person_tags.c.person_id.in_(chunk))
        ):
            states[person_id].tags.add(tag)
        for person_id, channel, purpose, status in session.execute(
            select(
                ConsentRecord.person_id,
                ConsentRecord.channel,
                ConsentRecord.purpose,
                ConsentRecord.status,
            )
            .where(ConsentRecord.person_id.in_(chunk))
            .order_by(ConsentRecord.id)
        ):
            states[person_id].consents[(channel, purpose)] = status
    return states
