"""Reads: the stage model, a person's stage and history, stage counts, the lifecycle clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVarTuple

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from tenure.customers.models import Person, Tag, person_tags
from tenure.db.dialect import id_in
from tenure.errors import NotFound
from tenure.identity.models import User
from tenure.lifecycle.conditions import parse_condition
from tenure.lifecycle.defaults import ensure_default_model
from tenure.lifecycle.models import (
    LifecycleRule,
    LifecycleSettings,
    LifecycleStage,
    PersonStage,
    StageHistory,
)
from tenure.lifecycle.rules import RuleSpec

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class StageModel:
    stages: list[LifecycleStage]
    rules: list[LifecycleRule]

    @cached_property
    def by_id(self) -> dict[int, LifecycleStage]:
        return {s.id: s for s in self.stages}

    @cached_property
    def by_key(self) -> dict[str, LifecycleStage]:
        return {s.key: s for s in self.stages}

    def rule_specs(self) -> list[RuleSpec]:
        """Enabled rules in evaluation order, their conditions parsed."""
        return [
            RuleSpec(id=r.id, stage_id=r.stage_id, condition=parse_condition(r.condition))
            for r in self.rules
            if r.enabled
        ]


def stage_model(session: Session) -> StageModel:
    """Stages in position order and rules in priority order; the default model on first use."""
    ensure_default_model(session)
    stages = list(session.scalars(select(LifecycleStage).order_by(LifecycleStage.position)))
    rules = list(
        session.scalars(select(LifecycleRule).order_by(LifecycleRule.priority, LifecycleRule.id))
    )
    return StageModel(stages=stages, rules=rules)


def lifecycle_settings(session: Session) -> LifecycleSettings:
    ensure_default_model(session)
    return session.scalars(select(LifecycleSettings).limit(1)).one()


def _require_person(session: Session, person_id: int) -> None:
    if session.scalar(select(Person.id).where(Person.id == person_id)) is None:
        raise NotFound("person", person_id)


def person_stage(session: Session, person_id: int) -> dict[str, Any] | None:
    """The person's current stage with its override, or None when not placed yet."""
    _require_person(session, person_id)
    row = session.get(PersonStage, person_id)
    if row is None:
        return None
    model = stage_model(session)
    stage = model.by_id[row.stage_id]
    rule = next((r for r in model.rules if r.id == row.rule_id), None)
    override_by = session.get(User, row.override_by_id) if row.override_by_id else None
    return {
        "person_id": person_id,
        "stage": stage.key,
        "stage_name": stage.name,
        "entered_at": row.entered_at,
        "rule_id": row.rule_id,
        "rule": rule.name if rule else None,
        "override": {
            "reason": row.override_reason,
            "by_id": row.override_by_id,
            "by": (override_by.name or override_by.email) if override_by else None,
            "at": row.override_at,
        }
        if row.overridden
        else None,
    }


def stage_history(session: Session, person_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """The person's stage changes, newest first."""
    _require_person(session, person_id)
    source_stage = aliased(LifecycleStage)
    target_stage = aliased(LifecycleStage)
    rows = session.execute(
        select(StageHistory, source_stage, target_stage)
        .outerjoin(source_stage, source_stage.id == StageHistory.from_stage_id)
        .join(target_stage, target_stage.id == StageHistory.to_stage_id)
        .where(StageHistory.person_id == person_id)
        .order_by(StageHistory.changed_at.desc(), StageHistory.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": h.id,
            "from": f.key if f else None,
            "from_name": f.name if f else None,
            "to": t.key,
            "to_name": t.name,
            "changed_at": h.changed_at,
            "source": h.source,
            "rule_id": h.rule_id,
            "reason": h.reason,
            "actor_id": h.actor_id,
        }
        for h, f, t in rows
    ]


@dataclass(frozen=True)
class Population:
    """Which people an analysis covers: everyone, a tag, or a list of ids.

    Segments (being built in ``tenure.segments``) can become a third filter here: all a
    population needs is a ``person_id IN (subquery)`` condition.
    """

    tag: str | None = None
    person_ids: tuple[int, ...] | None = None

    def restrict(self, query: Select[*Ts], person_column: Any, session: Session) -> Select[*Ts]:
        if self.tag:
            tagged = (
                select(person_tags.c.person_id)
                .join(Tag, Tag.id == person_tags.c.tag_id)
                .where(Tag.name == self.tag)
            )
            query = query.where(person_column.in_(tagged))
        if self.person_ids is not None:
            query = query.where(id_in(session.connection(), person_column, self.person_ids))
        return query


def stage_counts(session: Session, population: Population | None = None) -> list[dict[str, Any]]:
    """People currently in each stage and how many of them are pinned by an override."""
    population = population or Population()
    pinned = func.sum(case((PersonStage.overridden.is_(True), 1), else_=0))
    query = select(PersonStage.stage_id, func.count(), pinned).group_by(PersonStage.stage_id)
    rows = session.execute(population.restrict(query, PersonStage.person_id, session)).all()
    counts = {stage_id: (int(n), int(p or 0)) for stage_id, n, p in rows}
    return [
        {
            "stage": s.key,
            "name": s.name,
            "in_funnel": s.in_funnel,
            "people": counts.get(s.id, (0, 0))[0],
            "overridden": counts.get(s.id, (0, 0))[1],
        }
        for s in stage_model(session).stages
    ]


def stage_names(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    """The current stage's name of each of ``person_ids`` that has one (a list's column)."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(PersonStage.person_id, LifecycleStage.name)
        .join(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
        .where(PersonStage.person_id.in_(list(person_ids)))
    )
    return {person_id: name for person_id, name in rows}
