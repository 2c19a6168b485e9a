"""The job queue (admins only): health, jobs, schedules; retry and cancel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from tenure.errors import NotFound
from tenure.identity.permissions import JOB_ADMINS, require_role
from tenure.jobs import actions, queries
from tenure.validation import RowId
from tenure.web.api.paging import LimitParam
from tenure.web.deps import ApiActor, SessionDep

router = APIRouter(tags=["jobs"])

JobStateParam = Literal["queued", "running", "succeeded", "dead", "cancelled"]


@router.get("/jobs/health")
def job_health(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Counts by state, queue lag (seconds the oldest due job has waited), the oldest
    waiting job, running jobs and the schedules with their last and next run."""
    require_role(actor, JOB_ADMINS)
    running = queries.list_jobs(session, state="running", limit=100)
    return {
        **queries.queue_health(session),
        "running": [queries.job_dict(j) for j in running],
        "schedules": queries.list_schedules(session),
    }


@router.get("/jobs")
def list_jobs(
    session: SessionDep,
    actor: ApiActor,
    state: Annotated[JobStateParam | None, Query(description="Only jobs in this state.")] = None,
    task: Annotated[str | None, Query(description="Only this task, e.g. scores.refresh.")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    """Jobs, newest first, with their error and traceback when they failed."""
    require_role(actor, JOB_ADMINS)
    before = int(cursor) if cursor and cursor.isdigit() else None
    jobs = queries.list_jobs(session, state=state, task=task, limit=limit + 1, before_id=before)
    more = len(jobs) > limit
    jobs = jobs[:limit]
    return {
        "items": [queries.job_dict(j) for j in jobs],
        "next_cursor": str(jobs[-1].id) if more and jobs else None,
    }


@router.get("/jobs/{job_id}")
def get_job(job_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    require_role(actor, JOB_ADMINS)
    job = queries.get_job(session, job_id)
    if job is None:
        raise NotFound("job", job_id)
    return queries.job_dict(job)


@router.post("/jobs/{job_id}/retry")
def retry_job(job_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Queue a dead or cancelled job again with fresh attempts (409 otherwise)."""
    job = actions.retry_job(session=session, job_id=job_id, actor=actor)
    return queries.job_dict(job)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Cancel a queued or running job (409 otherwise); a running job's writes roll back."""
    job = actions.cancel_job(session=session, job_id=job_id, actor=actor)
    return queries.job_dict(job)
