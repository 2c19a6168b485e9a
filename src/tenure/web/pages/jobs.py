"""The jobs page (admins): queue health, running jobs, failures, schedules; retry, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.identity.permissions import JOB_ADMINS, require_role
from tenure.jobs import actions, queries
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.security import verify_csrf
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/jobs")
def jobs_page(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    require_role(ctx.actor, JOB_ADMINS)
    failures = [
        j
        for j in queries.list_jobs(session, state="dead", limit=50)
        + queries.list_jobs(session, state="queued", limit=200)
        if j.error
    ]
    return render(
        request,
        "jobs/index.html",
        ctx=ctx,
        health=queries.queue_health(session),
        running=queries.list_jobs(session, state="running", limit=100),
        failures=failures,
        recent=queries.list_jobs(session, limit=30),
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
