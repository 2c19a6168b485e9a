"""Lifecycle pages: funnel, time in stage, journey map, stage model settings, and the
person page's stage override form (the Stage card itself is ``lifecycle.cards``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tenure.customers.queries import list_tag_names
from tenure.errors import InvalidInput
from tenure.identity.permissions import MODEL_EDITORS, may
from tenure.lifecycle import actions, configure, funnel, journeys, queries
from tenure.lifecycle.conditions import METRICS
from tenure.lifecycle.schemas import RuleIn, RulePatch, StageIn, StagePatch
from tenure.validation import RowId, parse_whole_number
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

TABS = (
    ("Funnel", "/lifecycle"),
    ("Time in stage", "/lifecycle/time-in-stage"),
    ("Journeys", "/lifecycle/journeys"),
    ("Settings", "/lifecycle/settings"),
)


def _population(tag: str | None) -> queries.Population:
    return queries.Population(tag=tag or None)


def _page(request: Request, name: str, ctx: Any, session: Any, **context: Any) -> Response:
    return render(
        request,
        f"lifecycle/{name}",
        ctx=ctx,
        tabs=TABS,
        tags=list_tag_names(session),
        **context,
    )


@router.get("/lifecycle")
def funnel_page(
    request: Request, session: SessionDep, ctx: PageCtx, tag: str | None = None
) -> Response:
    actions.ensure_stage_model(session)  # the default model, on a workspace's first visit
    data = jsonable_encoder(funnel.funnel(session, _population(tag), by_cohort=True))
    return _page(request, "funnel.html", ctx, session, data=data, tag=tag or "")


@router.get("/lifecycle/time-in-stage")
def time_in_stage_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    tag: str | None = None,
    stage: str | None = None,
) -> Response:
    model = queries.stage_model(session)
    if stage and stage not in model.by_key:
        raise InvalidInput("stage", f"unknown stage {stage!r}")
    population = _population(tag)
    data = jsonable_encoder(funnel.time_in_stage(session, population))
    cohorts = None
    if stage:
        cohorts = jsonable_encoder(
            funnel.time_in_stage(session, population, stage=stage, by_cohort=True)
        )
    return _page(
        request,
        "time_in_stage.html",
        ctx,
        session,
        data=data,
        cohorts=cohorts,
        stage=stage or "",
        stages=model.stages,
        tag=tag or "",
    )


@router.get("/lifecycle/journeys")
def journeys_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    tag: str | None = None,
    stall_days: int = journeys.DEFAULT_STALL_DAYS,
) -> Response:
    if not 1 <= stall_days <= 3650:
        raise InvalidInput("stall_days", "must be 1 to 3650")
    population = _population(tag)
    return _page(
        request,
        "journeys.html",
        ctx,
        session,
        paths=journeys.common_paths(session, population),
        friction=journeys.friction_points(session, population, stall_days=stall_days),
        tag=tag or "",
        stall_days=stall_days,
    )


@router.get("/lifecycle/settings")
def settings_page(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    actions.ensure_stage_model(session)
    model = configure.model_out(session)
    return _page(
        request,
        "settings.html",
        ctx,
        session,
        model=model,
        conditions={r.id: json.dumps(r.condition, indent=2) for r in model.rules},
        metrics=METRICS,
        can_edit=may(ctx.actor, MODEL_EDITORS),
    )


def _settings_done(anchor: str) -> Response:
    return RedirectResponse(f"/lifecycle/settings#{anchor}", status_code=303)


def _condition(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput("condition", f"is not valid JSON ({error})")
    if not isinstance(value, dict):
        raise InvalidInput("condition", "must be a JSON object")
    return value


def _validated(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        raise InvalidInput(field, str(first["msg"]).removeprefix("Value error, "))


@router.post("/lifecycle/settings/stages")
def add_stage(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    key: Annotated[str, Form()],
    name: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    in_funnel: Annotated[str, Form()] = "",
    position: Annotated[str, Form()] = "",
) -> Response:
    data = _validated(
        StageIn,
        key=key.strip(),
        name=name,
        description=description,
        in_funnel=bool(in_funnel),
        position=_whole_number(position, "position") if position.strip() else None,
    )
    configure.create_stage(session=session, data=data, actor=actor)
    return _settings_done("stages")


@router.post("/lifecycle/settings/stages/{key}")
def edit_stage(
    request: Request,
    key: str,
    session: SessionDep,
    actor: PageWriter,
    name: Annotated[str, Form()],
    position: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    in_funnel: Annotated[str, Form()] = "",
) -> Response:
    data = _validated(
        StagePatch,
        name=name,
        description=description,
        in_funnel=bool(in_funnel),
        position=_whole_number(position, "position"),
    )
    configure.update_stage(session=session, key=key, data=data, actor=actor)
    return _settings_done("stages")


@router.post("/lifecycle/settings/stages/{key}/delete")
def remove_stage(
    request: Request,
    key: str,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    configure.delete_stage(session=session, key=key, actor=actor)
    return _settings_done("stages")


def _whole_number(text: str, field: str) -> int:
    number = parse_whole_number(text)
    if number is None:
        raise InvalidInput(field, "must be a whole number (0, 1, 2, ...)")
    return number


def _rule_fields(
    stage: str, name: str, priority: str, condition: str, description: str, enabled: str
) -> dict[str, Any]:
    return {
        "stage": stage,
        "name": name,
        "priority": _whole_number(priority, "priority"),
        "condition": _condition(condition),
        "description": description,
        "enabled": bool(enabled),
    }


@router.post("/lifecycle/settings/rules")
def add_rule(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    stage: Annotated[str, Form()],
    name: Annotated[str, Form()],
    priority: Annotated[str, Form()],
    condition: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
) -> Response:
    fields = _rule_fields(stage, name, priority, condition, description, enabled)
    data = _validated(RuleIn, **fields)
    configure.create_rule(session=session, data=data, actor=actor)
    return _settings_done("rules")


@router.post("/lifecycle/settings/rules/{rule_id}")
def edit_rule(
    request: Request,
    rule_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    stage: Annotated[str, Form()],
    name: Annotated[str, Form()],
    priority: Annotated[str, Form()],
    condition: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
) -> Response:
    fields = _rule_fields(stage, name, priority, condition, description, enabled)
    data = _validated(RulePatch, **fields)
    configure.update_rule(session=session, rule_id=rule_id, data=data, actor=actor)
    return _settings_done(f"rule-{rule_id}")


@router.post("/lifecycle/settings/rules/{rule_id}/delete")
def remove_rule(
    request: Request,
    rule_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    configure.delete_rule(session=session, rule_id=rule_id, actor=actor)
    return _settings_done("rules")


@router.post("/lifecycle/settings/incremental")
def toggle_incremental(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    incremental: Annotated[str, Form()] = "",
) -> Response:
    configure.set_incremental(session=session, incremental=bool(incremental), actor=actor)
    return _settings_done("switches")


@router.post("/people/{person_id}/stage/override")
def override_stage(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    stage: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    actions.set_stage_override(
        session=session, person_id=person_id, stage=stage, reason=reason, actor_id=actor.user_id
    )
    return RedirectResponse(f"/people/{person_id}#stage", status_code=303)


@router.post("/people/{person_id}/stage/override/clear")
def clear_override(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    actions.clear_stage_override(session=session, person_id=person_id, actor_id=actor.user_id)
    return RedirectResponse(f"/people/{person_id}#stage", status_code=303)
