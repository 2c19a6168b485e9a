"""Merging two people keeps everything both owned; undoing it restores both exactly.

Given two people who each own identities, events with items, consents, notes, tasks,
tags, import links and a scores row, a merge must leave all of it on the survivor (or in
the merge record, for what the survivor already had), and undo must give back a database
identical, row for row, for both people.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from tenure.customers.models import ConsentRecord, Identity, Note, Person, Task
from tenure.customers.tags import get_or_create_tags
from tenure.dedup.merge import MergedAway, merge_pair, merge_people, undo_merge
from tenure.dedup.merge_rows import PEOPLE, person_references
from tenure.dedup.models import Merge, encode_row
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.models import AuditEntry
from tenure.ingest.models import Import, people_imports
from tenure.scores.models import PersonScore
from tenure.timeline.models import Event, EventItem
from tests.score_refreshes import refresh_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_import(session: Session, name: str) -> int:
    record = Import(file_name=name, file_sha256="0" * 64, format="csv", mapping={}, options={})
    session.add(record)
    session.flush()
    return record.id


def seed_person(
    session: Session,
    *,
    first: str,
    last: str,
    email: str,
    phone: str,
    created_at: datetime,
    updated_at: datetime,
    import_id: int,
    attributes: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    job_title: str | None = None,
    scores: bool = False,
) -> int:
    """A person owning one row of everything a merge has to carry over."""
    person = Person(
        first_name=first,
        last_name=last,
        job_title=job_title,
        attributes=attributes or {},
        search_text=f"{first} {last} {email} {phone}".lower(),
        created_at=created_at,
        updated_at=updated_at,
    )
    person.identities = [
        Identity(kind="email", namespace="", value=email, original=email, is_primary=True),
        Identity(kind="phone", namespace="", value=phone, original=phone, is_primary=True),
        Identity(kind="external", namespace="crm", value=f"crm-{email}", original=email),
    ]
    person.identities[2].is_primary = True
    person.tags = get_or_create_tags(session, list(tags))
    session.add(person)
    session.flush()
    event = Event(
        person_id=person.id,
        occurred_at=created_at + timedelta(days=3),
        type="order",
        source="shop",
        client_event_id=f"order-{email}",
        amount_minor=2500,
        currency="USD",
        payload={"channel": "web"},
    )
    session.add_all(
        [
            event,
            ConsentRecord(
                person_id=person.id,
                channel="email",
                purpose="marketing",
                status="granted",
                source="test",
                recorded_at=created_at,
            ),
            Note(person_id=person.id, body=f"note about {first}", created_at=created_at),
            Task(person_id=person.id, title=f"call {first}", created_at=created_at),
        ]
    )
    session.flush()
    session.add(EventItem(event_id=event.id, sku="SKU-1", quantity=2, unit_price_minor=1250))
    session.execute(
        insert(people_imports).values(person_id=person.id, import_id=import_id, action="created")
    )
    if scores:
        session.add(
            PersonScore(
                person_id=person.id,
                refresh_id=refresh_id(session, as_of=T0),
                purchase_days=1,
                frequency=0,
                recency_days=0,
                age_days=10,
                monetary_minor=2500,
                revenue_minor=2500,
                historical_clv_minor=750,
                r_score=3,
                f_score=1,
                m_score=2,
                rfm_segment="New",
            )
        )
    session.flush()
    return person.id


def footprint(session: Session, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row that belongs to a person, in every table that references people."""
    session.flush()
    found = {
        "people": [
            encode_row(PEOPLE, r)
            for r in session.execute(select(PEOPLE).where(PEOPLE.c.id == person_id)).mappings()
        ]
    }
    for ref in person_references():
        rows = session.execute(select(ref.table).where(ref.column == person_id)).mappings()
        found[ref.key] = sorted(
            (encode_row(ref.table, r) for r in rows), key=lambda r: json.dumps(r, default=str)
        )
    event_ids = [row["id"] for row in found["events.person_id"]]
    items = EventItem.__table__
    found["event_items"] = [
        encode_row(items, r)  # type: ignore[arg-type]
        for r in session.execute(
            select(items).where(items.c.event_id.in_(event_ids)).order_by(items.c.id)
        ).mappings()
    ]
    return found


@pytest.fixture
def two_people(session: Session) -> tuple[int, int]:
    """Ada (older, edited long ago) and her newer duplicate, updated more recently."""
    first_import = make_import(session, "crm.csv")
    second_import = make_import(session, "shop.csv")
    ada = seed_person(
        session,
        first="Ada",
        last="Lovelace",
        email="ada@example.com",
        phone="+12025550172",
        created_at=T0,
        updated_at=T0 + timedelta(days=1),
        import_id=first_import,
        attributes={"city": "London", "plan": "free", "vip": False},
        tags=("newsletter", "vip"),
        job_title="Analyst",
        scores=True,
    )
    twin = seed_person(
        session,
        first="Ada",
        last="King",
        email="ada.king@example.com",
        phone="+12025550172",  # the same phone: kept once
        created_at=T0 + timedelta(days=30),
        updated_at=T0 + timedelta(days=60),
        import_id=second_import,
        attributes={"city": "", "plan": "pro", "birthday": "1815-12-10"},
        tags=("vip", "customer"),
        scores=True,
    )
    session.execute(
        insert(people_imports).values(person_id=twin, import_id=first_import, action="updated")
    )
    return ada, twin


def _count(session: Session, model: Any, person_id: int) -> int:
    return session.scalar(select(func.count()).where(model.person_id == person_id)) or 0


def test_merge_keeps_every_row_of_both_people(session: Session, two_people, admin) -> None:
    ada, twin = two_people

    merge = merge_pair(
        session=session, person_id=twin, other_id=ada, actor_id=admin.id, source="manual"
    )

    assert (merge.survivor_id, merge.loser_id) == (ada, twin)  # the older record survives
    assert session.get(Person, twin) is None
    values = {
        (i.kind, i.value): i.is_primary
        for i in session.scalars(select(Identity).where(Identity.person_id == ada))
    }
    assert values == {
        ("email", "ada@example.com"): True,
        ("email", "ada.king@example.com"): False,
        ("phone", "+12025550172"): True,
        ("external", "crm-ada@example.com"): True,
        ("external", "crm-ada.king@example.com"): False,
    }
    for model in (Event, ConsentRecord, Note, Task):
        assert _count(session, model, ada) == 2, model
    assert session.scalar(select(func.count()).select_from(EventItem)) >= 2
    tags = session.get(Person, ada).tags
    assert sorted(t.name for t in tags) == ["customer", "newsletter", "vip"]
    links = session.execute(
        select(people_imports.c.import_id).where(people_imports.c.person_id == ada)
    ).all()
    assert len(links) == 2  # both imports; the duplicate link to the first is kept in history
    assert session.get(PersonScore, ada) is not None and session.get(PersonScore, twin) is None
    kept = merge.moves
    assert len(kept["identities.person_id"]["dropped"]) == 1  # the shared phone
    assert len(kept["person_scores.person_id"]["dropped"]) == 1
    assert merge.loser_snapshot["last_name"] == "King"


def test_conflicting_fields_follow_the_documented_rule(session: Session, two_people) -> None:
    ada, twin = two_people

    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="manual"
    )

    person = session.get(Person, ada)
    # The twin was updated more recently: its non-empty values win ...
    assert person.last_name == "King"
    assert person.attributes["plan"] == "pro"
    assert person.attributes["birthday"] == "1815-12-10"
    # ... an empty value never overwrites one, and values only one side has are kept.
    assert person.attributes["city"] == "London" and person.attributes["vip"] is False
    assert person.job_title == "Analyst"
    assert person.created_at == T0
    assert merge.decisions["last_name"] == {
        "survivor": "Lovelace",
        "merged": "King",
        "kept": "King",
        "reason": "merged record updated more recently",
    }
    assert merge.decisions["attributes.birthday"]["reason"] == "filled from the merged record"
    assert "attributes.city" not in merge.decisions
    assert "ada.king@example.com" in person.search_text


def test_merge_and_undo_are_audited(session: Session, two_people, admin) -> None:
    ada, twin = two_people

    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=admin.id, source="manual"
    )
    undo_merge(session=session, merge_id=merge.id, actor_id=admin.id)

    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "person", AuditEntry.entity_id == str(ada))
        .order_by(AuditEntry.id)  # PostgreSQL returns rows in no set order without it
    ).all()
    merged, unmerged = [e for e in entries if e.action in ("merge", "unmerge")]
    assert merged.action == "merge" and merged.actor_id == admin.id
    assert merged.changes["merged_person_id"] == twin
    assert merged.changes["fields"]["last_name"]["kept"] == "King"
    assert merged.changes["moved_rows"]["events.person_id"] == 1
    assert unmerged.action == "unmerge" and unmerged.changes["restored_person_id"] == twin


def test_undo_restores_both_people_exactly(session: Session, two_people) -> None:
    ada, twin = two_people
    before = footprint(session, ada), footprint(session, twin)

    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="auto"
    )
    assert footprint(session, twin)["people"] == []
    undo_merge(session=session, merge_id=merge.id, actor_id=None)

    assert (footprint(session, ada), footprint(session, twin)) == before
    assert session.get(Merge, merge.id).undone_at is not None


def test_undo_keeps_what_changed_after_the_merge(session: Session, two_people) -> None:
    ada, twin = two_people
    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="auto"
    )
    # After the merge: someone renames the survivor and adds a note to it.
    session.execute(update(PEOPLE).where(PEOPLE.c.id == ada).values(first_name="Augusta"))
    session.add(Note(person_id=ada, body="after the merge"))
    session.flush()

    undo_merge(session=session, merge_id=merge.id, actor_id=None)

    survivor, restored = session.get(Person, ada), session.get(Person, twin)
    assert survivor.first_name == "Augusta"  # the later edit stays
    assert survivor.last_name == "Lovelace"  # the merge's choice is rolled back
    assert survivor.attributes == {"city": "London", "plan": "free", "vip": False}
    assert restored.last_name == "King"
    assert _count(session, Note, ada) == 2 and _count(session, Note, twin) == 1


def test_undo_is_refused_twice_and_out_of_order(session: Session, two_people) -> None:
    ada, twin = two_people
    third = seed_person(
        session,
        first="Ada",
        last="L.",
        email="al@example.com",
        phone="+12025550100",
        created_at=T0 - timedelta(days=1),
        updated_at=T0,
        import_id=make_import(session, "third.csv"),
    )
    first = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="auto"
    )
    second = merge_people(
        session=session, survivor_id=third, loser_id=ada, actor_id=None, source="auto"
    )

    with pytest.raises(Conflict, match=f"undo merge {second.id} first"):
        undo_merge(session=session, merge_id=first.id, actor_id=None)
    undo_merge(session=session, merge_id=second.id, actor_id=None)
    undo_merge(session=session, merge_id=first.id, actor_id=None)
    with pytest.raises(Conflict, match="already undone"):
        undo_merge(session=session, merge_id=first.id, actor_id=None)
    with pytest.raises(NotFound):
        undo_merge(session=session, merge_id=10**9, actor_id=None)


def test_a_merged_away_person_is_a_404_that_names_the_survivor(
    session: Session, two_people
) -> None:
    ada, twin = two_people
    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="auto"
    )

    with pytest.raises(MergedAway, match=f"merged into person {ada} \\(merge {merge.id}\\)"):
        merge_pair(session=session, person_id=twin, other_id=ada, actor_id=None, source="manual")
    with pytest.raises(InvalidInput):
        merge_pair(session=session, person_id=ada, other_id=ada, actor_id=None, source="manual")
    other = seed_person(
        session,
        first="X",
        last="Y",
        email="xy@example.com",
        phone="+12025550111",
        created_at=T0,
        updated_at=T0,
        import_id=make_import(session, "x.csv"),
    )
    with pytest.raises(InvalidInput, match="keep_id"):
        merge_pair(
            session=session,
            person_id=ada,
            other_id=other,
            actor_id=None,
            source="manual",
            keep_id=10**9,
        )


def test_a_merged_away_id_is_never_given_to_a_new_person(session: Session, two_people) -> None:
    # Given the highest id merged away (SQLite used to hand out max(rowid) + 1 again)
    ada, twin = two_people
    assert twin == session.scalar(select(func.max(Person.id)))
    merge = merge_people(
        session=session, survivor_id=ada, loser_id=twin, actor_id=None, source="auto"
    )

    # When a new person is created, on either backend (people.id is AUTOINCREMENT on SQLite)
    newcomer = seed_person(
        session,
        first="New",
        last="Comer",
        email="new@example.com",
        phone="+12025550199",
        created_at=T0,
        updated_at=T0,
        import_id=make_import(session, "new.csv"),
    )

    # Then the id is fresh, and the merge still undoes onto the old id
    assert newcomer > twin
    undo_merge(session=session, merge_id=merge.id, actor_id=None)
    assert session.get(Person, twin).last_name == "King"


def test_a_deleted_highest_id_is_never_given_to_a_new_person(session: Session, two_people) -> None:
    _ada, twin = two_people
    session.execute(delete(PEOPLE).where(PEOPLE.c.id == twin))
    newcomer = Person(first_name="New", last_name="Comer", search_text="new comer")
    session.add(newcomer)
    session.flush()
    assert newcomer.id > twin
