"""Undo after a related row was deleted: what still exists comes back, the rest is named.

Before this, ``POST /merges/{id}/undo`` answered 500 (a foreign key error) when the
merged-away person's organization, owner, a static list both were in, a tag both had or
an import both came from was deleted after the merge. Each kind is a case below: the
undo answers 200, the person is back, and ``not_restored`` says what stayed out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tenure.customers.models import Organization, Person, Tag, person_tags
from tenure.customers.tags import get_or_create_tags
from tenure.dedup.models import Merge
from tenure.identity.models import AuditEntry, User
from tenure.ingest.models import Import, people_imports
from tenure.segments.models import Segment, SegmentMember

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 6, 1, tzinfo=UTC)


def _two_people(session: Session) -> tuple[Person, Person]:
    ada = Person(first_name="Ada", last_name="Lovelace", created_at=T0, updated_at=T0)
    twin = Person(first_name="Ada", last_name="Lovelace", created_at=T1, updated_at=T1)
    session.add_all([ada, twin])
    session.flush()
    return ada, twin


def _organization(session: Session, ada: Person, twin: Person) -> Callable[[], str]:
    org = Organization(name="Analytical Engines Ltd")
    session.add(org)
    session.flush()
    twin.organization_id = org.id  # ada has none: the merge fills it from twin
    return lambda: _delete(session, Organization, org.id, f"organization {org.id}")


def _owner(session: Session, ada: Person, twin: Person) -> Callable[[], str]:
    user = User(email="owner-of-twin@example.com", role="manager")
    session.add(user)
    session.flush()
    twin.owner_id = user.id
    return lambda: _delete(session, User, user.id, f"user {user.id}")


def _static_list(session: Session, ada: Person, twin: Person) -> Callable[[], str]:
    segment = Segment(name="Conference guests", kind="static")
    session.add(segment)
    session.flush()
    session.add_all(
        [SegmentMember(segment_id=segment.id, person_id=p.id, entered_at=T0) for p in (ada, twin)]
    )
    return lambda: _delete(session, Segment, segment.id, f"segment {segment.id}")


def _tag(session: Session, ada: Person, twin: Person) -> Callable[[], str]:
    (tag,) = get_or_create_tags(session, ["vip"])
    session.flush()
    session.execute(
        insert(person_tags), [{"person_id": p.id, "tag_id": tag.id} for p in (ada, twin)]
    )
    return lambda: _delete(session, Tag, tag.id, f"tag {tag.id}")


def _import(session: Session, ada: Person, twin: Person) -> Callable[[], str]:
    record = Import(file_name="crm.csv", file_sha256="0" * 64, format="csv", mapping={}, options={})
    session.add(record)
    session.flush()
    session.execute(
        insert(people_imports),
        [{"person_id": p.id, "import_id": record.id, "action": "created"} for p in (ada, twin)],
    )
    return lambda: _delete(session, Import, record.id, f"import {record.id}")


def _delete(session: Session, model: type, row_id: int, words: str) -> str:
    session.execute(delete(model).where(model.id == row_id))  # type: ignore[attr-defined]
    session.commit()
    return words


@pytest.mark.parametrize(
    "relate", [_organization, _owner, _static_list, _tag, _import], ids=lambda f: f.__name__[1:]
)
def test_undo_after_a_related_row_was_deleted(client, admin, session: Session, relate) -> None:
    # Given two people who share (or one of whom owns) a related row, merged
    ada, twin = _two_people(session)
    remove = relate(session, ada, twin)
    session.commit()
    ada_id, twin_id = ada.id, twin.id
    merged = client.post(
        f"/api/v1/people/{twin_id}/merge", json={"other_id": ada_id}, headers=admin.headers
    )
    assert merged.status_code == 201, merged.text
    merge_id = merged.json()["id"]

    # When that related row is deleted, then the merge undone
    words = remove()
    undone = client.post(f"/api/v1/merges/{merge_id}/undo", headers=admin.headers)

    # Then the undo succeeds, both people exist, and the response names what stayed out
    assert undone.status_code == 200, undone.text
    notes = undone.json()["not_restored"]
    assert notes and any(words in note for note in notes), notes
    session.expire_all()
    assert session.get(Person, twin_id) is not None and session.get(Person, ada_id) is not None
    assert session.get(Merge, merge_id).undo_notes == notes
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "unmerge", AuditEntry.entity_id == str(ada_id)
        )
    ).one()
    assert entry.changes["not_restored"] == notes


def test_undo_restores_what_still_exists_beside_what_was_deleted(
    client, admin, session: Session
) -> None:
    ada, twin = _two_people(session)
    org = Organization(name="Still here")
    session.add(org)
    session.flush()
    twin.organization_id = org.id
    remove_tag = _tag(session, ada, twin)
    segment = Segment(name="Kept list", kind="static")
    session.add(segment)
    session.flush()
    session.add_all(
        [SegmentMember(segment_id=segment.id, person_id=p.id, entered_at=T0) for p in (ada, twin)]
    )
    session.commit()
    ada_id, twin_id, org_id, segment_id = ada.id, twin.id, org.id, segment.id
    merge_id = client.post(
        f"/api/v1/people/{twin_id}/merge", json={"other_id": ada_id}, headers=admin.headers
    ).json()["id"]
    remove_tag()

    undone = client.post(f"/api/v1/merges/{merge_id}/undo", headers=admin.headers).json()

    assert len(undone["not_restored"]) == 1 and "person_tags" in undone["not_restored"][0]
    session.expire_all()
    assert session.get(Person, twin_id).organization_id == org_id
    members = session.scalars(
        select(SegmentMember.person_id).where(SegmentMember.segment_id == segment_id)
    ).all()
    assert sorted(members) == sorted([ada_id, twin_id])
