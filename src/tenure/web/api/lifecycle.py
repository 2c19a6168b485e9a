"""Lifecycle API: the stage model, people's stages and overrides, funnel and journey map."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.lifecycle import actions, configure, funnel, journeys, queries
from tenure.lifecycle.conditions import METRICS
from tenure.lifecycle.schemas import (
    EvaluateIn,
    EvaluationOut,
    HistoryItem,
    MetricOut,
    ModelOut,
    OverrideIn,
    PersonStageOut,
    RuleIn,
    RuleOut,
    RulePatch,
    SettingsIn,
    StageIn,
    StageOut,
    StagePatch,
)
from tenure.validation import RowId
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(prefix="/lifecycle", tags=["lifecycle"])

TagQuery = Annotated[str | None, Query(description="Only people with this tag.")]
PeopleQuery = Annotated[
    list[RowId] | None,
    Query(alias="person_id", description="Only these people (repeat the parameter)."),
]


def _population(tag: str | None, person_ids: list[int] | None) -> queries.Population:
    return queries.Population(tag=tag or None, person_ids=tuple(person_ids) if person_ids else None)


def _keys(session: Session) -> dict[int, str]:
    return {s.id: s.key for s in queries.stage_model(session).stages}


@router.get("/model", response_model=ModelOut)
def get_model(session: SessionDep, actor: ApiActor) -> ModelOut:
    """Stages in funnel order and rules in evaluation order (the default model on first use)."""
    actions.ensure_stage_model(session)
    return configure.model_out(session)


@router.get("/metrics", response_model=list[MetricOut])
def get_metrics(actor: ApiActor) -> list[MetricOut]:
    """Metrics a rule condition can compare (``{"metric": name, ...}``)."""
    return [MetricOut(name=k, kind=v.kind, description=v.description) for k, v in METRICS.items()]


@router.post("/stages", response_model=StageOut, status_code=status.HTTP_201_CREATED)
def post_stage(data: StageIn, session: SessionDep, actor: ApiWriter) -> StageOut:
    stage = configure.create_stage(session=session, data=data, actor=actor)
    return configure.stage_out(stage)


@router.patch("/stages/{key}", response_model=StageOut)
def patch_stage(key: str, data: StagePatch, session: SessionDep, actor: ApiWriter) -> StageOut:
    stage = configure.update_stage(session=session, key=key, data=data, actor=actor)
    return configure.stage_out(stage)


@router.delete("/stages/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_stage(key: str, session: SessionDep, actor: ApiWriter) -> Response:
    """Delete a stage no rule, person or history refers to (409 otherwise)."""
    configure.delete_stage(session=session, key=key, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
def post_rule(data: RuleIn, session: SessionDep, actor: ApiWriter) -> RuleOut:
    """Add a rule; an invalid condition is a 422 naming the field (``condition.all.0.op``)."""
    rule = configure.create_rule(session=session, data=data, actor=actor)
    return configure.rule_out(rule, _keys(session))


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def patch_rule(rule_id: RowId, data: RulePatch, session: SessionDep, actor: ApiWriter) -> RuleOut:
    rule = configure.update_rule(session=session, rule_id=rule_id, data=data, actor=actor)
    return configure.rule_out(rule, _keys(session))


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    configure.delete_rule(session=session, rule_id=rule_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/settings", response_model=ModelOut)
def put_settings(data: SettingsIn, session: SessionDep, actor: ApiWriter) -> ModelOut:
    """``incremental``: re-evaluate the people of each ingested event batch (default on)."""
    configure.set_incremental(session=session, incremental=data.incremental, actor=actor)
    return configure.model_out(session)


def _person_out(session: Session, person_id: int) -> PersonStageOut:
    current = queries.person_stage(session, person_id)
    if current is None:
        return PersonStageOut(
            person_id=person_id,
            stage=None,
            stage_name=None,
            entered_at=None,
            rule_id=None,
            rule=None,
            override=None,
        )
    return PersonStageOut.model_validate(current)


@router.get("/people/{person_id}", response_model=PersonStageOut)
def get_person_stage(person_id: RowId, session: SessionDep, actor: ApiActor) -> PersonStageOut:
    """The person's current stage, the rule that placed them, and the override if any."""
    return _person_out(session, person_id)


@router.get("/people/{person_id}/history")
def get_person_history(
    person_id: RowId, session: SessionDep, actor: ApiActor
) -> dict[str, list[HistoryItem]]:
    """Stage changes, newest first (each also a ``stage_changed`` event on the timeline)."""
    items = queries.stage_history(session, person_id)
    return {"items": [HistoryItem.model_validate(item) for item in items]}


@router.put("/people/{person_id}/override", response_model=PersonStageOut)
def put_override(
    person_id: RowId, data: OverrideIn, session: SessionDep, actor: ApiWriter
) -> PersonStageOut:
    """Set the stage by hand, with a reason; the rules leave the person there until cleared."""
    actions.set_stage_override(
        session=session,
        person_id=person_id,
        stage=data.stage,
        reason=data.reason,
        actor_id=actor.user_id,
    )
    return _person_out(session, person_id)


@router.delete("/people/{person_id}/override", response_model=PersonStageOut)
def delete_override(person_id: RowId, session: SessionDep, actor: ApiWriter) -> PersonStageOut:
    """Clear the override; the rules place the person again at once."""
    actions.clear_stage_override(session=session, person_id=person_id, actor_id=actor.user_id)
    return _person_out(session, person_id)


@router.post("/evaluate", response_model=EvaluationOut)
def post_evaluate(data: EvaluateIn, session: SessionDep, actor: ApiWriter) -> EvaluationOut:
    """Re-evaluate up to 10,000 people now; everyone: ``tenure lifecycle evaluate``."""
    result = actions.evaluate_now(
        session=session, person_ids=data.person_ids, actor=actor, as_of=data.as_of
    )
    return EvaluationOut.model_validate(actions.describe(result))


@router.get("/funnel")
def get_funnel(
    session: SessionDep,
    actor: ApiActor,
    tag: TagQuery = None,
    person_ids: PeopleQuery = None,
    by: Annotated[str | None, Query(pattern="^cohort$", description="cohort")] = None,
) -> dict[str, Any]:
    """Conversion between funnel stages (overall or per cohort), transitions, stage counts.

    ``reached`` counts people who entered a stage or a later funnel stage; ``to_next`` is
    the share of them who reached the next one. A cohort is the month of a person's first
    stage.
    """
    population = _population(tag, person_ids)
    return funnel.funnel(session, population, by_cohort=by == "cohort")


@router.get("/time-in-stage")
def get_time_in_stage(
    session: SessionDep,
    actor: ApiActor,
    stage: Annotated[
        str | None, Query(description="One stage key (required with by=cohort).")
    ] = None,
    by: Annotated[str | None, Query(pattern="^cohort$")] = None,
    tag: TagQuery = None,
    person_ids: PeopleQuery = None,
) -> dict[str, Any]:
    """Kaplan-Meier curves of days spent in each stage; open spells are censored."""
    if stage is not None and stage not in queries.stage_model(session).by_key:
        raise InvalidInput("stage", f"unknown stage {stage!r}")
    if by == "cohort" and stage is None:
        raise InvalidInput("stage", "by=cohort needs one stage")
    population = _population(tag, person_ids)
    return funnel.time_in_stage(session, population, stage=stage, by_cohort=by == "cohort")


@router.get("/journeys")
def get_journeys(
    session: SessionDep,
    actor: ApiActor,
    tag: TagQuery = None,
    person_ids: PeopleQuery = None,
    stall_days: Annotated[int, Query(ge=1, le=3650)] = journeys.DEFAULT_STALL_DAYS,
) -> dict[str, Any]:
    """The most common paths of key moments and stages, and friction points ranked."""
    population = _population(tag, person_ids)
    return {
        "paths": journeys.common_paths(session, population),
        "friction": journeys.friction_points(session, population, stall_days=stall_days),
    }
