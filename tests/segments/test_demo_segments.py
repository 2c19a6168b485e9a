"""The demo's own segments: three dynamic ones a marketer made (filled by the nightly
refresh) and a sales rep's static list of business contacts, filled at once."""

from __future__ import annotations

from sqlalchemy import func, select

from tenure.config import Settings
from tenure.customers.models import Person
from tenure.datasets.demo import build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.identity.models import AuditEntry, User
from tenure.segments.actions import refresh_all_segments
from tenure.segments.demo import DYNAMIC, STATIC_MEMBERS, STATIC_NAME
from tenure.segments.models import Segment, SegmentMember
from tenure.timeline.models import Event


def test_the_demo_has_segments_of_its_own(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=600)
    factory = make_session_factory(engine)
    with factory() as session:
        own = {
            s.name: s for s in session.scalars(select(Segment).where(Segment.builtin_key.is_(None)))
        }
        creators = dict(session.execute(select(User.id, User.email)).all())
        static = own[STATIC_NAME]
        members = session.scalars(
            select(SegmentMember.person_id).where(SegmentMember.segment_id == static.id)
        ).all()
        in_organizations = session.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.id.in_(members), Person.organization_id.is_not(None))
        )
        entries = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == "segment_entered", Event.person_id.in_(members))
        )
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity_type == "segment", AuditEntry.action == "create")
        )
    assert sorted(own) == sorted([name for name, _, _ in DYNAMIC] + [STATIC_NAME])
    assert {own[name].filter for name, _, _ in DYNAMIC} == {text for _, _, text in DYNAMIC}
    assert {creators[s.created_by_id] for s in own.values()} == {
        "mo.marketing@demo.tenure.dev",
        "maria.sales@demo.tenure.dev",
    }
    assert static.kind == "static" and static.member_count == len(members) == STATIC_MEMBERS
    assert in_organizations == STATIC_MEMBERS and entries >= STATIC_MEMBERS
    assert audited == len(own)

    # The nightly refresh fills the dynamic ones; none of their filters fails.
    _, failed = refresh_all_segments(session_factory=factory, currency="USD")
    with factory() as session:
        counts = dict(
            session.execute(
                select(Segment.name, Segment.member_count).where(Segment.builtin_key.is_(None))
            ).all()
        )
    engine.dispose()
    assert failed == {}
    assert counts["Newsletter regulars"] > 0
    assert counts["Detractors who still buy"] > 0
