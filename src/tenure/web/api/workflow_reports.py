"""Workflow analysis: the dry run of a draft and the control-group report.

``GET /workflows/{id}/dry-run?days=30`` replays the last days against the saved draft;
``POST`` the same path with ``{"definition": {...}, "days": 30}`` tries a definition
that is not saved. Both only read (the session is rolled back) and run in the thread
pool: a replay reads every entrant's events. ``GET /workflows/{id}/report`` is the
enrolled-vs-holdout conversion with its interval and the per-step funnel. A filter that
does not compile is a 422 with its ``position``, as for segments.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field, ValidationError

from tenure.automation import drafts, overview, report
from tenure.automation.definition import Definition
from tenure.automation.dryrun import DEFAULT_DAYS, MAX_DAYS, dry_run
from tenure.errors import InvalidInput
from tenure.validation import RowId
from tenure.web.api.segments import _FilterErrorRoute
from tenure.web.deps import ApiActor, SessionDep, SettingsDep
from tenure.workspace.settings import currency

router = APIRouter(prefix="/workflows", tags=["workflows"], route_class=_FilterErrorRoute)


class DryRunIn(BaseModel):
    definition: dict[str, Any] | None = Field(
        default=None, description="A definition to try instead of the saved draft."
    )
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)


def _dry_run(
    session: Any, settings: Any, workflow_id: int, definition: Definition, days: int
) -> dict[str, Any]:
    result = dry_run(
        session,
        definition,
        settings,
        currency=currency(session, settings),
        days=days,
        workflow_id=workflow_id,
    )
    session.rollback()  # reads only: end the transaction
    return jsonable_encoder(result.as_dict())


@router.get("/{workflow_id}/dry-run")
def dry_run_draft(
    workflow_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiActor,
    days: int = Query(DEFAULT_DAYS, ge=1, le=MAX_DAYS),
) -> dict[str, Any]:
    """Who the saved draft would have enrolled over the last ``days`` days, the emails per
    business day, and the sends consent or the fatigue budget would stop."""
    workflow = overview.get_workflow(session, workflow_id)
    return _dry_run(session, settings, workflow.id, drafts.check(workflow.draft), days)


@router.post("/{workflow_id}/dry-run")
def dry_run_definition(
    workflow_id: RowId,
    body: DryRunIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiActor,
) -> dict[str, Any]:
    """The dry run of ``definition`` (the saved draft when absent); nothing is saved."""
    workflow = overview.get_workflow(session, workflow_id)
    document = body.definition if body.definition is not None else workflow.draft
    try:
        definition = Definition.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"definition.{where}" if where else "definition", first["msg"]) from None
    return _dry_run(session, settings, workflow.id, definition, body.days)


@router.get("/{workflow_id}/report")
def control_report(
    workflow_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    window_days: int | None = Query(None, ge=1, le=report.MAX_WINDOW_DAYS),
) -> dict[str, Any]:
    """Goal conversion of the enrolled vs the holdout within the window (default: the
    longest way through the steps), the difference with its 95 % interval (Newcombe's
    hybrid score method), and per step: people there now and visits by state."""
    body = report.control_report(session, workflow_id, window=window_days)
    return jsonable_encoder(body)
