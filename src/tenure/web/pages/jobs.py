"""The jobs page (admins): queue health, running jobs, failures, schedules; retry, cancel."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tenure.errors import InvalidInput
from tenure.identity.permissions import JOB_ADMINS, require_role
from tenure.jobs import actions, queries
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.security import verify_csrf
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)


#: Rows of the recent jobs list (older ones a link away).
RECENT = 30


@router.get("/jobs")
def jobs_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    task: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    frequent: Annotated[bool, Query()] = False,
    before: Annotated[RowId | None, Query()] = None,
) -> Response:
    require_role(ctx.actor, JOB_ADMINS)
    if state and state not in queries.STATES:
        raise InvalidInput("state", f"is one of {', '.join(queries.STATES)}")
    failures = [
        j
        for j in queries.list_jobs(session, state="dead", limit=50)
        + queries.list_jobs(session, state="queued", limit=200)
        if j.error
    ]
    # The per-minute ticks' successes would fill the list and push the nightly chain
    # out: folded away unless asked for, or unless a task is chosen.
    folded = [] if frequent or task else queries.frequent_schedules(session)
    recent = queries.list_jobs(
        session,
        task=task or None,
        state=state or None,
        limit=RECENT + 1,
        before_id=before,
        fold_schedules=folded,
    )
    chosen = {"task": task, "state": state, "frequent": "true" if frequent else ""}
    kept = {name: value for name, value in chosen.items() if value}
    older = recent[RECENT - 1].id if len(recent) > RECENT else None
    return render(
        request,
        "jobs/index.html",
        ctx=ctx,
        health=queries.queue_health(session),
        running=queries.list_jobs(session, state="running", limit=100),
        failures=failures,
        recent=recent[:RECENT],
        older_url=f"/jobs?{urlencode(kept | {'before': older})}#recent-jobs" if older else None,
        unfold_url=f"/jobs?{urlencode(kept | {'frequent': 'true'})}#recent-jobs",
        filters=chosen,
        folded=folded,
        tasks=queries.task_names(session),
        states=queries.STATES,
        schedules=queries.list_schedules(session),
    )


@router.post("/jobs/{job_id}/{change}")
def change_job(
    request: Request,
    job_id: RowId,
    change: str,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
) -> Response:
    verify_csrf(request, csrf_token)
    if change == "retry":
        actions.retry_job(session=session, job_id=job_id, actor=actor)
    elif change == "cancel":
        actions.cancel_job(session=session, job_id=job_id, actor=actor)
    else:
        return Response(status_code=404)
    return RedirectResponse("/jobs", status_code=303)
