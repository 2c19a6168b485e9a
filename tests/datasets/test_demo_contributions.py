"""The demo builder lays its base, then runs each registered contribution once, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.config import Settings
from tenure.customers.attributes import declared_attributes
from tenure.customers.models import ConsentRecord, Organization, Person, Tag
from tenure.datasets.demo import build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.identity.models import User
from tenure.timeline.models import Event
from tenure.workspace.demo import (
    DemoContext,
    DemoNotConfigured,
    contribution_rng,
    replaced_demo_contributions,
)
from tenure.workspace.models import Workspace

CUSTOMERS = 40


def test_contributions_run_once_each_in_order_with_the_context(fresh_database_url) -> None:
    seen: list[tuple[str, DemoContext, int]] = []

    def contribution(name: str):
        def contribute(context: DemoContext) -> None:
            people = context.session.scalar(select(func.count()).select_from(Person))
            seen.append((name, context, people))

        return contribute

    engine = create_db_engine(fresh_database_url)
    # Registered out of order: "late" (order 20) must run after "early" (order 10).
    with replaced_demo_contributions(
        ("test.late", contribution("late"), 20), ("test.early", contribution("early"), 10)
    ):
        summary = build_demo_workspace(engine=engine, settings=Settings(), size=CUSTOMERS)

    assert [name for name, _, _ in seen] == ["early", "late"]
    _, context, people_seen = seen[0]
    with make_session_factory(engine)() as session:
        person_ids = sorted(session.scalars(select(Person.id)))
        fixed_now = session.scalar(select(Workspace.fixed_now))
        # Only the base: no contribution but the two above ran (no staff, tags, consents).
        assert session.scalar(select(func.count()).select_from(User)) == 0
        assert session.scalar(select(func.count()).select_from(Tag)) == 0
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0
    engine.dispose()
    # The base was in place, in the builder's transaction, when the contributions ran.
    assert people_seen == summary.people == len(person_ids)
    assert sorted(context.person_ids) == person_ids
    assert context.customers == CUSTOMERS
    assert len(context.original_of) == summary.planted_duplicates
    assert set(context.original_of.values()) <= set(context.customer_ids)
    assert set(context.order_revenue) <= set(context.customer_ids)
    assert sum(context.order_revenue.values()) > 0
    assert context.today == fixed_now
    assert len(context.organization_ids) == summary.organizations
    # Each contribution draws from its own stream, named after it.
    early, late = seen[0][1].rng, seen[1][1].rng
    assert early.bit_generator.state != late.bit_generator.state


def test_a_contribution_stream_depends_on_its_name_only() -> None:
    same = contribution_rng(7, "customers.tags").random(5)
    assert (same == contribution_rng(7, "customers.tags").random(5)).all()
    assert not (same == contribution_rng(7, "customers.owners").random(5)).all()


def test_a_demo_with_nothing_registered_is_refused(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    with replaced_demo_contributions(), pytest.raises(DemoNotConfigured):
        build_demo_workspace(engine=engine, settings=Settings(), size=5)
    with make_session_factory(engine)() as session:  # and nothing was kept
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    engine.dispose()


def test_the_registered_contributions_fill_the_demo(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=CUSTOMERS)
    with make_session_factory(engine)() as session:
        staff = session.scalars(select(User.email).order_by(User.id)).all()
        tags = set(session.scalars(select(Tag.name)))
        service = session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.purpose == "service")
        )
        people = session.scalar(select(func.count()).select_from(Person))
        owned = session.scalar(
            select(func.count()).select_from(Person).where(Person.owner_id.is_not(None))
        )
        # Account work: every organization has its own story, told by its owner.
        logged = session.execute(
            select(Event.organization_id, func.count(), func.max(Event.occurred_at))
            .where(Event.organization_id.is_not(None), Event.type != "note_added")
            .group_by(Event.organization_id)
        ).all()
        organizations = session.scalar(select(func.count()).select_from(Organization))
        today = session.scalar(select(Workspace.fixed_now))
        declared = set(declared_attributes(session, "person"))
        carried = {key for p in session.scalars(select(Person.attributes)) for key in p}
    engine.dispose()
    assert len(logged) == organizations
    assert all(1 <= count <= 3 and latest < today for _, count, latest in logged)
    assert staff[0] == "admin@demo.tenure.dev" and len(staff) == 6
    # win-back-sent: the demo's "Win back at-risk customers" workflow tags whom it wrote to.
    assert tags == {"vip", "newsletter", "b2b", "gift-buyer", "win-back-sent"}
    assert service == people  # every person may be emailed about their orders
    assert 0 < owned < people
    assert carried and carried <= declared  # the person form shows every attribute
