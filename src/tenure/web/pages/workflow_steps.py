"""The builder's step controls: add, edit, move up or down, remove.

Each form is one kind of step (``automation.drafts.STEP_FIELDS`` says its fields); the
edited draft is checked whole (jumps only forward, at least one step) before the engine's
``update_draft`` saves it, and a refused edit comes back on the form with the field named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.automation import actions, drafts, overview, wording
from tenure.automation.models import Workflow
from tenure.errors import Conflict, InvalidInput
from tenure.identity.permissions import require_write
from tenure.validation import RowId
from tenure.web.deps import PageWriter, PostedForm, SessionDep, write_now
from tenure.web.pages.context import PageCtx
from tenure.web.pages.workflows import _error, builder, choices
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)


def _later_steps(workflow: Workflow, step_id: str | None, after: str | None) -> list[dict]:
    """The steps a jump from this place may name: those below it, in words."""
    definition = drafts.check(workflow.draft)
    rows = wording.numbered_steps(definition, wording.Names())
    ids = [row["id"] for row in rows]
    anchor = step_id or after
    if anchor is None or anchor not in ids:
        return []  # a new step at the end has nothing below it
    return rows[ids.index(anchor) + 1 :]


def _form_page(
    request: Request,
    session: Session,
    ctx: Any,
    workflow: Workflow,
    *,
    kind: str,
    values: dict[str, Any],
    step_id: str | None = None,
    after: str | None = None,
    error: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    fields = drafts.fields_for(kind)
    return render(
        request,
        "workflows/step_form.html",
        status_code=status_code,
        ctx=ctx,
        workflow=workflow,
        kind=kind,
        kind_label=drafts.STEP_KINDS[kind],
        fields=fields,
        values=values,
        step_id=step_id,
        after=after,
        later=_later_steps(workflow, step_id, after),
        error=error,
        **choices(session),
    )


def _values(step: dict[str, Any]) -> dict[str, Any]:
    """A step's JSON as the form's fields (durations unfolded)."""
    values = dict(step)
    for key, prefix in (("duration", ""), ("timeout", "timeout_")):
        for unit, amount in (values.pop(key, None) or {}).items():
            values[f"{prefix}{unit}"] = amount
    return values


def _save(session: Session, actor: Any, workflow_id: RowId, draft: dict) -> None:
    write_now(
        session,
        lambda: actions.update_draft(
            session, actor=actor, workflow_id=workflow_id, definition=draft
        ),
    )


@router.get("/workflows/{workflow_id}/steps/new")
def new_step(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    kind: str = "wait",
    after: str | None = None,
) -> Response:
    require_write(ctx.actor)
    workflow = overview.get_workflow(session, workflow_id)
    return _form_page(request, session, ctx, workflow, kind=kind, values={}, after=after)


@router.post("/workflows/{workflow_id}/steps/new")
def add_step(
    request: Request,
    workflow_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    posted: PostedForm,
) -> Response:
    after = str(posted.get("after") or "") or None
    return _submit_step(
        request,
        session,
        ctx,
        actor,
        workflow_id,
        posted,
        after=after,
        place=lambda draft, step: drafts.add_step(draft, step, after),
    )


def _submit_step(
    request: Request,
    session: Session,
    ctx: Any,
    actor: Any,
    workflow_id: RowId,
    posted: Any,
    *,
    place: Callable[[dict, dict], dict],
    step_id: str | None = None,
    after: str | None = None,
) -> Response:
    """Save a step's form into the draft (a new step when ``step_id`` is None), or show
    the form again with what was typed and the refusal."""
    workflow = overview.get_workflow(session, workflow_id)
    form = {key: str(value) for key, value in posted.items()}
    kind = form.get("kind", "")
    try:
        step = drafts.step_from_form(kind, step_id or drafts.new_step_id(workflow.draft), form)
        _save(session, actor, workflow_id, place(workflow.draft, step))
    except (InvalidInput, Conflict) as error:
        workflow = overview.get_workflow(session, workflow_id)  # write_now rolled back
        return _form_page(
            request,
            session,
            ctx,
            workflow,
            kind=kind if kind in drafts.STEP_KINDS else "wait",
            values=form,
            step_id=step_id,
            after=after,
            error=_error(error),
            status_code=422,
        )
    return RedirectResponse(f"/workflows/{workflow_id}#steps", status_code=303)


@router.get("/workflows/{workflow_id}/steps/{step_id}/edit")
def edit_step(
    request: Request, workflow_id: RowId, step_id: str, session: SessionDep, ctx: PageCtx
) -> Response:
    require_write(ctx.actor)
    workflow = overview.get_workflow(session, workflow_id)
    step = next((s for s in workflow.draft["steps"] if s["id"] == step_id), None)
    if step is None:
        raise InvalidInput("step", f"there is no step {step_id!r}")
    return _form_page(
        request, session, ctx, workflow, kind=step["kind"], values=_values(step), step_id=step_id
    )


@router.post("/workflows/{workflow_id}/steps/{step_id}/edit")
def save_step(
    request: Request,
    workflow_id: RowId,
    step_id: str,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    posted: PostedForm,
) -> Response:
    return _submit_step(
        request,
        session,
        ctx,
        actor,
        workflow_id,
        posted,
        step_id=step_id,
        place=drafts.replace_step,
    )


def _edit_or_show(
    request: Request,
    session: Session,
    ctx: Any,
    actor: Any,
    workflow_id: RowId,
    edit: Any,
) -> Response:
    workflow = overview.get_workflow(session, workflow_id)
    try:
        _save(session, actor, workflow_id, edit(workflow.draft))
    except (InvalidInput, Conflict) as error:
        workflow = overview.get_workflow(session, workflow_id)  # write_now rolled back
        return builder(request, session, ctx, workflow, error=_error(error), status_code=422)
    return RedirectResponse(f"/workflows/{workflow_id}#steps", status_code=303)


@router.post("/workflows/{workflow_id}/steps/{step_id}/move")
def move_step(
    request: Request,
    workflow_id: RowId,
    step_id: str,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    direction: Annotated[str, Form()] = "down",
) -> Response:
    offset = -1 if direction == "up" else 1
    return _edit_or_show(
        request,
        session,
        ctx,
        actor,
        workflow_id,
        lambda draft: drafts.move_step(draft, step_id, offset),
    )


@router.post("/workflows/{workflow_id}/steps/{step_id}/remove")
def remove_step(
    request: Request,
    workflow_id: RowId,
    step_id: str,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
) -> Response:
    return _edit_or_show(
        request,
        session,
        ctx,
        actor,
        workflow_id,
        lambda draft: drafts.remove_step(draft, step_id),
    )
