"""Refreshes record each entry and exit exactly once, as timeline events; static lists."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tenure.customers.models import Person, Tag
from tenure.errors import Conflict, InvalidInput
from tenure.identity.models import AuditEntry
from tenure.segments import actions, queries
from tenure.segments.membership import ENTERED, EXITED
from tenure.segments.models import Segment, SegmentMember, SegmentSnapshot
from tenure.segments.schemas import SegmentCreate, SegmentUpdate
from tenure.segments.syntax import FilterError
from tenure.timeline.models import Event

from .conftest import NOW, World, at


def _create(world: World, name: str, text: str) -> Segment:
    segment, _ = actions.create_segment(
        session=world.session,
        data=SegmentCreate(name=name, filter=text),
        actor=None,
        currency="USD",
    )
    return segment


def _refresh(world: World, segment: Segment, now=NOW):
    return actions.refresh_segment(
        session=world.session, segment_id=segment.id, currency="USD", as_of=now
    )


def _events(world: World, segment: Segment) -> list[tuple[str, str]]:
    rows = world.session.execute(
        select(Event.type, Event.person_id, Event.payload, Event.source)
        .where(Event.type.in_((ENTERED, EXITED)))
        .order_by(Event.id)
    ).all()
    names = world.names
    found = []
    for kind, person_id, payload, source in rows:
        if payload["segment_id"] != segment.id:
            continue
        assert source == "segments"
        assert payload == {"segment_id": segment.id, "segment_name": segment.name}
        found.append((kind, names[person_id]))
    return found


def _members(world: World, segment: Segment) -> set[str]:
    ids = world.session.scalars(
        select(SegmentMember.person_id).where(SegmentMember.segment_id == segment.id)
    )
    return {world.names[i] for i in ids}


def _retag(world: World, name: str, tags: list[str]) -> None:
    person = world.session.get(Person, world.ids[name])
    assert person is not None
    person.tags = list(world.session.scalars(select(Tag).where(Tag.name.in_(tags))))
    world.session.flush()


def test_refresh_records_entries_and_exits_exactly_once(world: World):
    # Given a segment of VIPs, created (and so first computed) now
    segment = _create(world, "VIPs", 'tag = "vip"')
    assert _members(world, segment) == {"ada", "cy"}
    assert sorted(_events(world, segment)) == [(ENTERED, "ada"), (ENTERED, "cy")]

    # When it is refreshed with nothing changed, then nothing is recorded
    change = _refresh(world, segment)
    assert (change.members, change.entered, change.exited) == (2, 0, 0)
    assert len(_events(world, segment)) == 2

    # When cy loses the tag and bob gains it, then one exit and one entry are recorded
    _retag(world, "cy", ["beta"])
    _retag(world, "bob", ["vip"])
    change = _refresh(world, segment)
    assert (change.members, change.entered, change.exited) == (2, 1, 1)
    assert _members(world, segment) == {"ada", "bob"}
    assert _events(world, segment)[2:] == [(EXITED, "cy"), (ENTERED, "bob")]

    # And refreshing again records nothing more
    _refresh(world, segment)
    assert len(_events(world, segment)) == 4

    # And the size history has one snapshot per refresh, with what changed
    history = queries.snapshots(world.session, segment.id)
    assert [(h["members"], h["entered"], h["exited"]) for h in history] == [
        (2, 2, 0),
        (2, 0, 0),
        (2, 1, 1),
        (2, 0, 0),
    ]
    # And the refresh that changed members is audited
    audited = world.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "segment", AuditEntry.entity_id == str(segment.id)
        )
    ).all()
    assert sorted(audited) == ["create", "refresh"]


def test_events_are_dated_at_the_evaluation_time(world: World):
    segment = _create(world, "Recent buyers", "count(order, last 30 days) >= 1")
    # As of NOW only cy (2025-12-30) ordered in the last 30 days
    _refresh(world, segment, now=NOW)
    assert _members(world, segment) == {"cy"}
    # As of 2025-12-10 cy had not ordered yet and ada's last order was 2025-12-01
    change = _refresh(world, segment, now=at("2025-12-10"))
    assert _members(world, segment) == {"ada"}
    assert change.as_of == at("2025-12-10")
    exited_at = world.session.scalars(
        select(Event.occurred_at).where(Event.type == EXITED, Event.person_id == world.ids["cy"])
    ).all()
    assert exited_at == [at("2025-12-10")]


def test_segments_can_build_on_segments(world: World):
    vips = _create(world, "VIPs", 'tag = "vip"')
    reachable = _create(world, "Reachable VIPs", 'segment = "VIPs" and has email')
    assert _members(world, reachable) == {"ada", "cy"}
    # refresh_all refreshes VIPs before the segment that names it
    _retag(world, "cy", [])
    changes, failed = actions.refresh_all_segments(
        session_factory=_factory(world), currency="USD", as_of=NOW
    )
    assert failed == {}
    order = [c.name for c in changes]
    assert order.index("VIPs") < order.index("Reachable VIPs")
    world.session.expire_all()
    assert _members(world, vips) == {"ada"}
    assert _members(world, reachable) == {"ada"}


def _factory(world: World):
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(
        bind=world.session.connection(),
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


def test_unknown_and_self_references_are_refused(world: World):
    with pytest.raises(FilterError) as raised:
        _create(world, "A", 'segment = "Nope"')
    assert raised.value.position == 10
    with pytest.raises(FilterError, match="its own members"):
        _create(world, "Loop", 'segment = "Loop"')


def test_update_applies_a_new_filter_and_delete_removes_everything(world: World):
    segment = _create(world, "Pro", 'attribute.plan = "pro"')
    updated, change = actions.update_segment(
        session=world.session,
        segment_id=segment.id,
        data=SegmentUpdate(filter='attribute.plan = "free"', name="Free"),
        actor=None,
        currency="USD",
    )
    assert change is not None and (change.entered, change.exited) == (1, 2)
    assert updated.name == "Free" and _members(world, updated) == {"bob"}
    actions.delete_segment(session=world.session, segment_id=segment.id, actor=None)
    world.session.flush()
    assert (
        world.session.scalar(select(SegmentMember).where(SegmentMember.segment_id == segment.id))
        is None
    )
    assert (
        world.session.scalar(
            select(SegmentSnapshot).where(SegmentSnapshot.segment_id == segment.id)
        )
        is None
    )


def test_names_are_unique(world: World):
    _create(world, "Pro", 'attribute.plan = "pro"')
    with pytest.raises(Conflict):
        _create(world, "Pro", "has email")


def test_static_lists(world: World):
    # Given a static list with ada and bob
    segment, change = actions.create_segment(
        session=world.session,
        data=SegmentCreate(
            name="Board", kind="static", person_ids=[world.ids["ada"], world.ids["bob"]]
        ),
        actor=None,
        currency="USD",
    )
    assert change.entered == 2 and _members(world, segment) == {"ada", "bob"}

    # When ada is added again and cy added, bob removed
    change = actions.change_members(
        session=world.session,
        segment_id=segment.id,
        add=[world.ids["ada"], world.ids["cy"]],
        remove=[world.ids["bob"]],
        actor=None,
    )
    # Then only the real changes count and are recorded
    assert (change.members, change.entered, change.exited) == (2, 1, 1)
    assert _members(world, segment) == {"ada", "cy"}
    assert sorted(_events(world, segment)) == [
        (ENTERED, "ada"),
        (ENTERED, "bob"),
        (ENTERED, "cy"),
        (EXITED, "bob"),
    ]
    # And unknown people, filters and refreshes are refused
    with pytest.raises(InvalidInput, match="no person with id 999999"):
        actions.change_members(
            session=world.session, segment_id=segment.id, add=[999999], actor=None
        )
    with pytest.raises(Conflict):
        _refresh(world, segment)
    with pytest.raises(InvalidInput):
        actions.update_segment(
            session=world.session,
            segment_id=segment.id,
            data=SegmentUpdate(filter="has email"),
            actor=None,
            currency="USD",
        )


def test_dynamic_segments_refuse_hand_edits(world: World):
    segment = _create(world, "VIPs", 'tag = "vip"')
    with pytest.raises(Conflict):
        actions.change_members(
            session=world.session, segment_id=segment.id, add=[world.ids["bob"]], actor=None
        )


def test_members_page_by_keyset_and_export(world: World):
    segment = _create(world, "Emails", "has email")
    first = queries.list_members(world.session, segment.id, limit=3)
    second = queries.list_members(world.session, segment.id, cursor=first.next_cursor, limit=3)
    names = [p["first_name"] for p in first.items + second.items]
    assert names == ["Ada", "Cy", "Dee", "Fay"]
    assert second.next_cursor is None
    assert first.items[0]["entered_at"] is not None
    csv_text = b"".join(queries.export_members_csv(_factory(world), segment.id)).decode()
    lines = csv_text.strip().split("\r\n")
    assert lines[0].startswith("person_id,first_name,last_name,email")
    assert lines[1].split(",")[:4] == [str(world.ids["ada"]), "Ada", "A", "ada@acme.test"]
    assert len(lines) == 5
