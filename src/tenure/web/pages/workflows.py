"""Workflow pages: the list, the builder of the draft (settings and steps in words, with
counts per step once published), publish / pause / resume / archive, the dry run, the
people in a workflow (with cancel) and the control-group report.

Step edits are in ``workflow_steps``. Every write calls the engine's actions
(``automation.actions``), which check ``WORKFLOW_EDITORS``; the pages only hide the
controls from who may not use them. The dry run and the report are reads: a read-only
analyst may run them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.automation import actions, drafts, overview, report, wording
from tenure.automation.checks import check_definition
from tenure.automation.dryrun import DEFAULT_DAYS, dry_run
from tenure.automation.models import Workflow, WorkflowVersion
from tenure.errors import Conflict, InvalidInput
from tenure.identity.permissions import require_write
from tenure.lifecycle.models import LifecycleStage
from tenure.messaging.templating.models import MessageTemplate
from tenure.segments.models import Segment
from tenure.validation import RowId
from tenure.web.deps import PageWriter, PostedForm, SessionDep, SettingsDep, write_now
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render
from tenure.workspace import clock
from tenure.workspace.settings import currency

router = APIRouter(include_in_schema=False)

#: Where a new workflow starts: by hand, one wait; the builder takes it from there.
STARTER = {
    "trigger": {"kind": "manual"},
    "steps": [{"id": "s1", "kind": "wait", "duration": {"days": 1}}],
}
ENROLMENT_STATES = ("active", "completed", "goal_reached", "exited", "cancelled")


def choices(session: Session) -> dict[str, Any]:
    """What the builder's selects offer: templates, segments, workflows and stages."""
    return {
        "templates": session.execute(
            select(MessageTemplate.id, MessageTemplate.name, MessageTemplate.purpose)
            .where(MessageTemplate.archived.is_(False))
            .order_by(MessageTemplate.name)
        ).all(),
        "segments": session.execute(
            select(Segment.id, Segment.name, Segment.kind).order_by(Segment.name)
        ).all(),
        "workflows": session.execute(
            select(Workflow.id, Workflow.name).order_by(Workflow.name)
        ).all(),
        "stages": session.execute(
            select(LifecycleStage.key, LifecycleStage.name).order_by(LifecycleStage.position)
        ).all(),
    }


def _tabs(workflow: Workflow, active: str) -> dict[str, Any]:
    return {"workflow_id": workflow.id, "active": active}


def builder(
    request: Request,
    session: Session,
    ctx: Any,
    workflow: Workflow,
    *,
    error: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The builder page of ``workflow`` (with the error of a refused edit, if any)."""
    definition = drafts.check(workflow.draft)
    names = wording.names_for(session, definition)
    published = report.published_definition(session, workflow)
    version = (
        session.get(WorkflowVersion, workflow.published_version_id)
        if workflow.published_version_id
        else None
    )
    funnel = {row["step_id"]: row for row in report.funnel(session, workflow.id, published)}
    return render(
        request,
        "workflows/builder.html",
        status_code=status_code,
        ctx=ctx,
        workflow=workflow,
        definition=definition,
        draft=workflow.draft,
        trigger_text=wording.trigger(definition.trigger, names),
        steps=wording.numbered_steps(definition, names),
        funnel=funnel,
        version=version,
        draft_changed=published is not None and published.model_dump() != definition.model_dump(),
        # What publishing would refuse (a filter that does not compile, a missing
        # template...), shown while the draft is edited rather than at the last click.
        problems=check_definition(session, definition, workflow_id=workflow.id)
        if workflow.status != "archived"
        else [],
        error=error,
        form=form or {},
        step_kinds=drafts.STEP_KINDS,
        trigger_kinds=drafts.TRIGGER_KINDS,
        tabs=_tabs(workflow, "builder"),
        **choices(session),
    )


def _error(error: InvalidInput | Conflict) -> dict[str, str]:
    if isinstance(error, InvalidInput):
        return {"field": error.field, "reason": error.reason}
    return {"field": error.field or "workflow", "reason": str(error)}


@router.get("/workflows")
def workflows_list(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    rows = overview.list_workflows(session, clock.now(session))
    return render(request, "workflows/list.html", ctx=ctx, workflows=rows)


@router.get("/workflows/new")
def new_workflow(request: Request, ctx: PageCtx) -> Response:
    require_write(ctx.actor)
    return render(request, "workflows/new.html", ctx=ctx, form={}, error=None)


@router.post("/workflows/new")
def create_workflow(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    try:
        workflow = write_now(
            session,
            lambda: actions.create_workflow(
                session, actor=actor, name=name, description=description, definition=STARTER
            ),
        )
    except (InvalidInput, Conflict) as error:
        form = {"name": name, "description": description}
        return render(
            request, "workflows/new.html", status_code=422, ctx=ctx, form=form, error=_error(error)
        )
    return RedirectResponse(f"/workflows/{workflow.id}", status_code=303)


@router.get("/workflows/{workflow_id}")
def workflow_page(
    request: Request, workflow_id: RowId, session: SessionDep, ctx: PageCtx
) -> Response:
    return builder(request, session, ctx, overview.get_workflow(session, workflow_id))


@router.post("/workflows/{workflow_id}/settings")
def save_settings(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    posted: PostedForm,
) -> Response:
    workflow = overview.get_workflow(session, workflow_id)
    form = {key: str(value) for key, value in posted.items()}
    try:
        draft = drafts.settings_from_form(workflow.draft, form)
        write_now(
            session,
            lambda: actions.update_draft(
                session,
                actor=actor,
                workflow_id=workflow_id,
                definition=draft,
                name=form.get("name"),
                description=form.get("description"),
            ),
        )
    except (InvalidInput, Conflict) as error:
        workflow = overview.get_workflow(session, workflow_id)  # write_now rolled back
        return builder(
            request, session, ctx, workflow, error=_error(error), form=form, status_code=422
        )
    return RedirectResponse(f"/workflows/{workflow_id}", status_code=303)


_STATUS_ACTIONS = {
    "publish": actions.publish,
    "pause": actions.pause,
    "resume": actions.resume,
    "archive": actions.archive,
}


@router.post("/workflows/{workflow_id}/{verb}")
def change_status(
    request: Request,
    workflow_id: RowId,
    verb: str,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
) -> Response:
    act = _STATUS_ACTIONS.get(verb)
    if act is None:
        raise InvalidInput("action", f"{verb!r} is not publish, pause, resume or archive")
    try:
        write_now(session, lambda: act(session, actor=actor, workflow_id=workflow_id))
    except (InvalidInput, Conflict) as error:
        workflow = overview.get_workflow(session, workflow_id)  # write_now rolled back
        return builder(request, session, ctx, workflow, error=_error(error), status_code=422)
    return RedirectResponse(f"/workflows/{workflow_id}", status_code=303)


@router.get("/workflows/{workflow_id}/dry-run")
def dry_run_page(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageCtx,
    days: int = DEFAULT_DAYS,
) -> Response:
    """What the draft would have done over the last ``days`` days (reads only)."""
    workflow = overview.get_workflow(session, workflow_id)
    definition = drafts.check(workflow.draft)
    result = dry_run(
        session,
        definition,
        settings,
        currency=currency(session, settings),
        days=days,
        workflow_id=workflow.id,
    )
    session.rollback()  # nothing was written; end the read
    days_rows = result.as_dict()["messages_per_day"]
    peak = max((row["messages"] for row in days_rows), default=0)
    return render(
        request,
        "workflows/dry_run.html",
        ctx=ctx,
        workflow=workflow,
        result=result,
        days_rows=days_rows,
        peak=peak,
        tabs=_tabs(workflow, "builder"),
    )


@router.get("/workflows/{workflow_id}/people")
def people_page(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    state: str = "active",
    step: str | None = None,
) -> Response:
    workflow = overview.get_workflow(session, workflow_id)
    if state not in (*ENROLMENT_STATES, "all"):
        raise InvalidInput("state", f"{state!r} is not one of {', '.join(ENROLMENT_STATES)}, all")
    page = overview.workflow_people(
        session, workflow_id, state=None if state == "all" else state, step=step or None
    )
    return render(
        request,
        "workflows/people.html",
        ctx=ctx,
        workflow=workflow,
        page=page,
        state=state,
        step=step,
        states=ENROLMENT_STATES,
        tabs=_tabs(workflow, "people"),
    )


@router.post("/workflows/enrolments/{enrolment_id}/cancel")
def cancel_enrolment(
    enrolment_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    back: Annotated[str, Form()] = "",
) -> Response:
    enrolment = write_now(
        session,
        lambda: actions.cancel_enrolment(session, actor=actor, enrolment_id=enrolment_id),
    )
    # Back to the page the button was on (a path of this site only).
    target = back if back.startswith("/") and not back.startswith("//") else ""
    return RedirectResponse(target or f"/workflows/{enrolment.workflow_id}/people", status_code=303)


@router.get("/workflows/{workflow_id}/report")
def report_page(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    window_days: int | None = None,
) -> Response:
    workflow = overview.get_workflow(session, workflow_id)
    body = report.control_report(session, workflow_id, window=window_days)
    published = report.published_definition(session, workflow)
    names = wording.names_for(session, published)
    number = {s.id: i + 1 for i, s in enumerate(published.steps)} if published else {}
    labels = {
        s.id: f"{number[s.id]}. {wording.step_text(s, names, number)}"
        for s in (published.steps if published else [])
    }
    return render(
        request,
        "workflows/report.html",
        ctx=ctx,
        workflow=workflow,
        report=body,
        labels=labels,
        tabs=_tabs(workflow, "report"),
    )
