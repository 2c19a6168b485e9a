"""Writes on people and organizations, each audited in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.attributes import merge_attributes
from tenure.customers.changes import PersonChange, field_changes, notify
from tenure.customers.identities import NormalizedIdentity, check_identities, identity_rows
from tenure.customers.models import (
    AttributeDefinition,
    AttributeType,
    ConsentRecord,
    Identity,
    Organization,
    Person,
)
from tenure.customers.schemas import (
    AttributeDefinitionCreate,
    ConsentIn,
    PersonCreate,
    PersonUpdate,
)
from tenure.customers.summaries import mark_stale
from tenure.customers.tags import get_or_create_tags
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import diff_fields, record_audit
from tenure.identity.models import User
from tenure.workspace import clock


def _person_snapshot(person: Person) -> dict[str, Any]:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "job_title": person.job_title,
        "organization_id": person.organization_id,
        "owner_id": person.owner_id,
        "attributes": dict(person.attributes or {}),
        "tags": sorted(t.name for t in person.tags),
        "identities": sorted(f"{i.kind}:{i.namespace}:{i.value}" for i in person.identities),
    }


def _search_text(person: Person, identities: Sequence[NormalizedIdentity | Identity]) -> str:
    parts = [person.first_name, person.last_name, *(i.value for i in identities)]
    return " ".join(p for p in parts if p).lower()


def _check_references(session: Session, organization_id: int | None, owner_id: int | None) -> None:
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise InvalidInput("organization_id", f"no organization {organization_id}")
    if owner_id is not None and session.get(User, owner_id) is None:
        raise InvalidInput("owner_id", f"no user {owner_id}")


def _consent_rows(
    session: Session, person_id: int, consents: Sequence[ConsentIn], actor_id: int | None
) -> list:
    now = clock.now(session)
    return [
        ConsentRecord(
            person_id=person_id,
            channel=c.channel,
            purpose=c.purpose,
            status=c.status.value,
            source=c.source,
            recorded_at=c.recorded_at or now,
            recorded_by_id=actor_id,
        )
        for c in consents
    ]


def create_person(
    *, session: Session, data: PersonCreate, actor_id: int | None, default_region: str
) -> Person:
    _check_references(session, data.organization_id, data.owner_id)
    normalized = check_identities(
        session, data.identities, default_region=default_region, person_id=None
    )
    person = Person(
        first_name=data.first_name,
        last_name=data.last_name,
        job_title=data.job_title,
        organization_id=data.organization_id,
        owner_id=data.owner_id,
        attributes=merge_attributes(
            session=session, entity="person", current={}, changes=data.attributes
        ),
        identities=identity_rows(normalized),
        tags=get_or_create_tags(session, data.tags),
        created_at=clock.now(session),
    )
    person.search_text = _search_text(person, person.identities)
    session.add(person)
    session.flush()
    session.add_all(_consent_rows(session, person.id, data.consents, actor_id))
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="person",
        entity_id=person.id,
        changes=diff_fields({}, _person_snapshot(person)),
    )
    mark_stale(session, [person.id])
    return person


def get_person_for_update(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


def update_person(
    *,
    session: Session,
    person_id: int,
    data: PersonUpdate,
    actor_id: int | None,
    default_region: str,
) -> Person:
    person = get_person_for_update(session, person_id)
    before = _person_snapshot(person)
    given = data.model_fields_set
    _check_references(
        session,
        data.organization_id if "organization_id" in given else None,
        data.owner_id if "owner_id" in given else None,
    )
    for field in ("first_name", "last_name", "job_title", "organization_id", "owner_id"):
        if field in given:
            value = getattr(data, field)
            if value is None and field in ("first_name", "last_name"):
                value = ""
            setattr(person, field, value)
    if data.attributes is not None:
        person.attributes = merge_attributes(
            session=session, entity="person", current=person.attributes, changes=data.attributes
        )
    if data.tags is not None:
        person.tags = get_or_create_tags(session, data.tags)
    if data.identities is not None:
        normalized = check_identities(
            session,
            data.identities,
            default_region=default_region,
            person_id=person.id,
            stored=list(person.identities),
        )
        person.identities.clear()
        session.flush()  # delete the old rows before the unique index sees the new ones
        person.identities.extend(identity_rows(normalized))
    if data.consents:
        session.add_all(_consent_rows(session, person.id, data.consents, actor_id))
    person.search_text = _search_text(person, person.identities)
    changes = diff_fields(before, _person_snapshot(person))
    notify(session, field_changes(person.id, changes))
    if changes or data.consents:
        person.updated_at = utcnow()
        session.flush()
        if data.consents:
            changes["consents"] = {
                "before": None,
                "after": [c.model_dump(mode="json") for c in data.consents],
            }
        record_audit(
            session=session,
            actor_id=actor_id,
            action="update",
            entity_type="person",
            entity_id=person.id,
            changes=changes,
        )
        mark_stale(session, [person.id])
    return person


def delete_person(*, session: Session, person_id: int, actor_id: int | None) -> None:
    person = get_person_for_update(session, person_id)
    record_audit(
        session=session,
        actor_id=actor_id,
        action="delete",
        entity_type="person",
        entity_id=person.id,
        changes=diff_fields(_person_snapshot(person), {}),
    )
    session.delete(person)
    session.flush()


def record_consent(
    *, session: Session, person_id: int, consent: ConsentIn, actor_id: int | None
) -> ConsentRecord:
    get_person_for_update(session, person_id)
    (row,) = _consent_rows(session, person_id, [consent], actor_id)
    session.add(row)
    session.flush()
    key = f"consent.{consent.channel}.{consent.purpose}"
    notify(session, [PersonChange(person_id, key, None, consent.status.value)])
    record_audit(
        session=session,
        actor_id=actor_id,
        action="update",
        entity_type="person",
        entity_id=person_id,
        changes={
            f"consent.{consent.channel}.{consent.purpose}": {
                "before": None,
                "after": consent.status.value,
            }
        },
    )
    mark_stale(session, [person_id])
    return row


def define_attribute(
    *, session: Session, data: AttributeDefinitionCreate, actor_id: int | None
) -> AttributeDefinition:
    if data.type == AttributeType.choice and not data.choices:
        raise InvalidInput("choices", "a choice attribute needs at least one choice")
    exists = session.scalar(
        select(AttributeDefinition.id).where(
            AttributeDefinition.entity == data.entity.value, AttributeDefinition.key == data.key
        )
    )
    if exists is not None:
        raise Conflict(f"attribute {data.key} is already declared", field="key")
    definition = AttributeDefinition(
        entity=data.entity.value,
        key=data.key,
        label=data.label,
        type=data.type.value,
        choices=data.choices if data.type == AttributeType.choice else None,
    )
    session.add(definition)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="attribute_definition",
        entity_id=definition.id,
        changes=diff_fields({}, data.model_dump(mode="json")),
    )
    return definition
