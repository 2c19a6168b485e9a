"""Editing the stage model: stages, their order, rules and the incremental switch.

Every edit checks the actor may edit the model (``MODEL_EDITORS``), is validated
(InvalidInput names the field), audited, committed, and takes effect at the
next evaluation: the ingestion hook for the people of new events, ``tenure lifecycle
evaluate`` for everyone (a model edit does not re-place a million people by itself).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import audit_changed
from tenure.identity.permissions import MODEL_EDITORS, Actor, authorize
from tenure.lifecycle.conditions import parse_condition
from tenure.lifecycle.models import LifecycleRule, LifecycleStage, PersonStage, StageHistory
from tenure.lifecycle.queries import StageModel, lifecycle_settings, stage_model
from tenure.lifecycle.schemas import (
    ModelOut,
    RuleIn,
    RuleOut,
    RulePatch,
    StageIn,
    StageOut,
    StagePatch,
)

MAX_STAGES = 30
MAX_RULES = 200


def model_out(session: Session, model: StageModel | None = None) -> ModelOut:
    model = model or stage_model(session)
    keys = {s.id: s.key for s in model.stages}
    return ModelOut(
        stages=[stage_out(s) for s in model.stages],
        rules=[rule_out(r, keys) for r in model.rules],
        incremental=lifecycle_settings(session).incremental,
    )


def stage_out(stage: LifecycleStage) -> StageOut:
    return StageOut(
        key=stage.key,
        name=stage.name,
        description=stage.description,
        in_funnel=stage.in_funnel,
        position=stage.position,
    )


def rule_out(rule: LifecycleRule, keys: dict[int, str]) -> RuleOut:
    return RuleOut(
        id=rule.id,
        stage=keys[rule.stage_id],
        name=rule.name,
        description=rule.description,
        priority=rule.priority,
        condition=rule.condition,
        enabled=rule.enabled,
    )


def _stage(model: StageModel, key: str, field: str = "stage") -> LifecycleStage:
    stage = model.by_key.get(key)
    if stage is None:
        raise InvalidInput(field, f"unknown stage {key!r}; stages: {', '.join(model.by_key)}")
    return stage


def _reorder(model: StageModel, stage: LifecycleStage, position: int | None) -> None:
    ordered = [s for s in model.stages if s is not stage]
    index = len(ordered) if position is None else min(position, len(ordered))
    ordered.insert(index, stage)
    for number, item in enumerate(ordered):
        item.position = number


def create_stage(*, session: Session, data: StageIn, actor: Actor | None) -> LifecycleStage:
    actor_id = authorize(actor, MODEL_EDITORS)
    model = stage_model(session)
    if data.key in model.by_key:
        raise Conflict(f"stage {data.key!r} exists", field="key")
    if len(model.stages) >= MAX_STAGES:
        raise InvalidInput("key", f"a model holds at most {MAX_STAGES} stages")
    stage = LifecycleStage(
        key=data.key,
        name=data.name,
        description=data.description,
        in_funnel=data.in_funnel,
        position=len(model.stages),
    )
    session.add(stage)
    _reorder(model, stage, data.position)
    session.flush()
    _audit(session, actor_id, "create", "lifecycle_stage", stage.key, {}, _stage_fields(stage))
    session.commit()
    return stage


def update_stage(
    *, session: Session, key: str, data: StagePatch, actor: Actor | None
) -> LifecycleStage:
    actor_id = authorize(actor, MODEL_EDITORS)
    model = stage_model(session)
    stage = model.by_key.get(key)
    if stage is None:
        raise NotFound("stage", key)
    before = _stage_fields(stage)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "description", "in_funnel"):
        if changes.get(name) is not None:
            setattr(stage, name, changes[name])
    if changes.get("position") is not None:
        _reorder(model, stage, changes["position"])
    session.flush()
    _audit(session, actor_id, "update", "lifecycle_stage", key, before, _stage_fields(stage))
    session.commit()
    return stage


def delete_stage(*, session: Session, key: str, actor: Actor | None) -> None:
    """Delete an unused stage; one with rules, people or history is refused (409)."""
    actor_id = authorize(actor, MODEL_EDITORS)
    model = stage_model(session)
    stage = model.by_key.get(key)
    if stage is None:
        raise NotFound("stage", key)
    if len(model.stages) == 1:
        raise Conflict("a model needs at least one stage", field="key")
    if any(r.stage_id == stage.id for r in model.rules):
        raise Conflict(f"rules place people in {key!r}: delete or move them first", field="key")
    used = exists().where(PersonStage.stage_id == stage.id)
    seen = exists().where(
        (StageHistory.to_stage_id == stage.id) | (StageHistory.from_stage_id == stage.id)
    )
    if session.scalar(select(used)) or session.scalar(select(seen)):
        raise Conflict(f"stage {key!r} has people or history; rename it instead", field="key")
    before = _stage_fields(stage)
    session.delete(stage)
    session.flush()
    for number, item in enumerate(stage_model(session).stages):
        item.position = number
    session.flush()
    _audit(session, actor_id, "delete", "lifecycle_stage", key, before, {})
    session.commit()


def create_rule(*, session: Session, data: RuleIn, actor: Actor | None) -> LifecycleRule:
    actor_id = authorize(actor, MODEL_EDITORS)
    model = stage_model(session)
    if len(model.rules) >= MAX_RULES:
        raise InvalidInput("priority", f"a model holds at most {MAX_RULES} rules")
    parse_condition(data.condition)
    rule = LifecycleRule(
        stage_id=_stage(model, data.stage).id,
        name=data.name,
        description=data.description,
        priority=data.priority,
        condition=data.condition,
        enabled=data.enabled,
    )
    session.add(rule)
    session.flush()
    _audit(session, actor_id, "create", "lifecycle_rule", rule.id, {}, _rule_fields(rule, model))
    session.commit()
    return rule


def update_rule(
    *, session: Session, rule_id: int, data: RulePatch, actor: Actor | None
) -> LifecycleRule:
    actor_id = authorize(actor, MODEL_EDITORS)
    model = stage_model(session)
    rule = next((r for r in model.rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound("rule", rule_id)
    before = _rule_fields(rule, model)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(name, "must not be null")
    if "condition" in changes:
        parse_condition(changes["condition"])
        rule.condition = changes["condition"]
    if "stage" in changes:
        rule.stage_id = _stage(model, changes["stage"]).id
    for name in ("name", "description", "priority", "enabled"):
        if name in changes:
            setattr(rule, name, changes[name])
    session.flush()
    after = _rule_fields(rule, model)
    _audit(session, actor_id, "update", "lifecycle_rule", rule_id, before, after)
    session.commit()
    return rule


def delete_rule(*, session: Session, rule_id: int, actor: Actor | None) -> None:
    actor_id = authorize(actor, MODEL_EDITORS)
    rule = session.get(LifecycleRule, rule_id)
    if rule is None:
        raise NotFound("rule", rule_id)
    before = _rule_fields(rule, stage_model(session))
    session.delete(rule)
    session.flush()
    _audit(session, actor_id, "delete", "lifecycle_rule", rule_id, before, {})
    session.commit()


def set_incremental(*, session: Session, incremental: bool, actor: Actor | None) -> None:
    actor_id = authorize(actor, MODEL_EDITORS)
    settings = lifecycle_settings(session)
    before = settings.incremental
    settings.incremental = incremental
    session.flush()
    _audit(
        session,
        actor_id,
        "update",
        "lifecycle_settings",
        settings.id,
        {"incremental": before},
        {"incremental": incremental},
    )
    session.commit()


def _stage_fields(stage: LifecycleStage) -> dict[str, Any]:
    return {
        "key": stage.key,
        "name": stage.name,
        "description": stage.description,
        "in_funnel": stage.in_funnel,
        "position": stage.position,
    }


def _rule_fields(rule: LifecycleRule, model: StageModel) -> dict[str, Any]:
    stage = model.by_id.get(rule.stage_id)
    return {
        "stage": stage.key if stage else rule.stage_id,
        "name": rule.name,
        "description": rule.description,
        "priority": rule.priority,
        "condition": rule.condition,
        "enabled": rule.enabled,
    }


def _audit(
    session: Session,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit_changed(
        session=session,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
