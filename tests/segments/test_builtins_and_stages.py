"""Built-in RFM segments and value tiers; ``stage`` through the lifecycle adapter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import sessionmaker

from tenure.customers.models import Person
from tenure.db.base import Base
from tenure.scores.segments import SEGMENTS
from tenure.segments import actions
from tenure.segments.builtins import BUILTINS, ensure_builtin_segments
from tenure.segments.models import Segment, SegmentMember
from tenure.segments.operands import Scalar, SetOf
from tenure.segments.stages import current_stage, stage_by_reference, stage_by_text
from tenure.segments.syntax import FilterError

from .conftest import NOW, World

people = Person.__table__


def test_every_rfm_segment_and_both_tiers_are_built_in():
    names = [b.name for b in BUILTINS]
    assert names[: len(SEGMENTS)] == list(SEGMENTS)
    assert names[-2:] == ["Premium customers", "Occasional customers"]
    assert len({b.key for b in BUILTINS}) == len(BUILTINS) == 13


def test_builtins_are_refreshed_from_the_stored_scores(world: World):
    # Given a user segment that already holds a built-in's name
    world.session.add(
        Segment(
            name="Lost",
            kind="dynamic",
            filter="has email",
            member_count=0,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    world.session.flush()
    factory = sessionmaker(
        bind=world.session.connection(),
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    # When every segment is refreshed
    _, failed = actions.refresh_all_segments(session_factory=factory, currency="USD", as_of=NOW)
    assert failed == {}
    world.session.expire_all()
    by_key = {s.builtin_key: s for s in world.session.scalars(select(Segment)) if s.builtin_key}
    assert len(by_key) == 13
    assert by_key["rfm.lost"].name == "Lost (built-in)"

    def members(key: str) -> set[str]:
        ids = world.session.scalars(
            select(SegmentMember.person_id).where(SegmentMember.segment_id == by_key[key].id)
        )
        return {world.names[i] for i in ids}

    # Then each scored customer is in their RFM segment
    assert members("rfm.champions") == {"ada"}
    assert members("rfm.at_risk") == {"bob"}
    assert members("rfm.loyal") == {"dee"}
    assert members("rfm.new") == {"eve"}
    assert members("rfm.hibernating") == {"fay"}
    assert members("rfm.cant_lose") == set()
    # And the top 20% by CLV (1 of the 4 with a CLV) is premium, the rest occasional
    assert members("tier.premium") == {"ada"}
    assert members("tier.occasional") == {"bob", "dee", "fay"}
    # And built-ins cannot be edited or deleted; ensuring them again adds nothing
    with pytest.raises(Exception, match="built-in"):
        actions.delete_segment(
            session=world.session, segment_id=by_key["tier.premium"].id, actor=None
        )
    assert ensure_builtin_segments(world.session) == []


def _stage_tables(world: World) -> tuple[Table, Table, Table]:
    metadata = MetaData()
    stages = Table(
        "t_lifecycle_stages",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("key", String(40)),
        Column("name", String(100)),
    )
    placed = Table(
        "t_person_stages",
        metadata,
        Column("person_id", Integer, primary_key=True),
        Column("stage_id", ForeignKey("t_lifecycle_stages.id")),
    )
    text = Table(
        "t_person_stage_text",
        metadata,
        Column("person_id", Integer, primary_key=True),
        Column("stage", String(40)),
    )
    connection = world.session.connection()
    metadata.create_all(connection)
    connection.execute(
        insert(stages),
        [
            {"id": 1, "key": "active", "name": "Active"},
            {"id": 2, "key": "new_customer", "name": "New customer"},
            {"id": 3, "key": "at_risk", "name": "At risk"},
        ],
    )
    ids = world.ids
    connection.execute(
        insert(placed),
        [
            {"person_id": ids["ada"], "stage_id": 1},
            {"person_id": ids["bob"], "stage_id": 3},
            {"person_id": ids["cy"], "stage_id": 2},
        ],
    )
    connection.execute(
        insert(text),
        [{"person_id": ids["ada"], "stage": "Active"}, {"person_id": ids["dee"], "stage": "Lead"}],
    )
    return stages, placed, text


def test_stage_through_a_stage_table(world: World):
    stages, placed, _ = _stage_tables(world)

    def source():
        return stage_by_reference(placed, stages, people)

    assert world.members('stage = "Active"', stage=source) == {"ada"}
    assert world.members('stage = "new_customer"', stage=source) == {"cy"}
    assert world.members('stage in ("At risk", "Active")', stage=source) == {"ada", "bob"}
    assert world.members('stage != "Active"', stage=source) == {"bob", "cy", "dee", "eve", "fay"}
    assert world.members('stage ~ "risk"', stage=source) == {"bob"}
    assert world.members("not has stage", stage=source) == {"dee", "eve", "fay"}


def test_stage_as_text(world: World):
    _, _, text = _stage_tables(world)

    def source():
        return stage_by_text(text, people)

    assert world.members('stage = "Lead"', stage=source) == {"dee"}
    assert world.members('not stage = "Lead"', stage=source) == {"ada", "bob", "cy", "eve", "fay"}
    assert world.members("has stage", stage=source) == {"ada", "dee"}


def test_the_adapter_finds_what_stores_stages():
    def metadata_with(*tables: tuple[str, list[Column]]) -> MetaData:
        metadata = MetaData()
        for name, columns in tables:
            Table(name, metadata, *columns)
        return metadata

    people_columns = [Column("id", Integer, primary_key=True)]
    nothing = metadata_with(("people", people_columns))
    assert current_stage(nothing) is None
    on_people = metadata_with(
        ("people", [Column("id", Integer, primary_key=True), Column("stage", String)])
    )
    assert isinstance(current_stage(on_people), Scalar)
    lifecycle = metadata_with(
        ("people", [Column("id", Integer, primary_key=True)]),
        (
            "lifecycle_stages",
            [Column("id", Integer), Column("key", String), Column("name", String)],
        ),
        ("person_stages", [Column("person_id", Integer), Column("stage_id", Integer)]),
    )
    assert isinstance(current_stage(lifecycle), SetOf)
    as_text = metadata_with(
        ("people", [Column("id", Integer, primary_key=True)]),
        ("person_stages", [Column("person_id", Integer), Column("stage", String)]),
    )
    assert isinstance(current_stage(as_text), Scalar)


def test_stage_reads_lifecycle_stages(world: World):
    if "person_stages" not in Base.metadata.tables:
        pytest.skip("lifecycle stores no stages in this build")
    from tenure.lifecycle.actions import set_stage_override

    # Given two people pinned in a stage by lifecycle's own action
    for name, stage in (("ada", "active"), ("bob", "at_risk")):
        set_stage_override(
            session=world.session,
            person_id=world.ids[name],
            stage=stage,
            reason="segments test",
            actor_id=None,
        )
    # Then stage matches the stage's name or key
    assert world.members('stage = "Active"') == {"ada"}
    assert world.members('stage in ("at_risk", "Lapsed")') == {"bob"}
    assert world.members('has stage and not stage = "active"') == {"bob"}


def test_stage_without_stored_stages_is_refused_with_a_reason(world: World):
    with pytest.raises(FilterError, match="stage is not available") as raised:
        world.members('tag = "vip" and stage = "Active"', stage=lambda: None)
    assert raised.value.position == 16


def test_evaluation_time_is_the_workspace_clock(world: World):
    from tenure.segments.compiler import evaluation_time
    from tenure.workspace.clock import fix_now

    fix_now(world.session, datetime(1998, 7, 1, tzinfo=UTC))
    assert evaluation_time(world.session) == datetime(1998, 7, 1, tzinfo=UTC)
