"""Reads for the jobs page, the API and the CLI: queue health, jobs, schedules."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.jobs.models import Job, JobSchedule, JobState
from tenure.jobs.schedules import next_run

STATES = tuple(s.value for s in JobState)
PENDING = (JobState.queued.value, JobState.running.value)
#: A schedule that runs more often than this (seconds) is "frequent": see below.
FREQUENT_SECONDS = 3600


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "task": job.task,
        "queue": job.queue,
        "priority": job.priority,
        "state": job.state,
        "payload": job.payload,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_at": job.run_at,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "worker": job.worker,
        "lease_expires_at": job.lease_expires_at,
        "schedule": job.schedule,
        "idempotency_key": job.idempotency_key,
        "error": job.error,
        "traceback": job.traceback,
        "result": job.result,
    }


def list_jobs(
    session: Session,
    *,
    state: str | None = None,
    task: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
    fold_schedules: Collection[str] = (),
) -> list[Job]:
    """Jobs, newest first; ``fold_schedules`` leaves out the succeeded runs of those
    schedules (their failures, and the jobs they are running, still show)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    if task:
        query = query.where(Job.task == task)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    if fold_schedules:
        query = query.where(
            or_(
                Job.schedule.is_(None),
                Job.schedule.not_in(list(fold_schedules)),
                Job.state != JobState.succeeded.value,
            )
        )
    return list(session.scalars(query))


def frequent_schedules(session: Session, *, now: datetime | None = None) -> list[str]:
    """The schedules that run more often than hourly (the per-minute workflow ticks, the
    read model's catch-up): their runs would fill any list of recent jobs, so the jobs
    page folds their successes away unless asked."""
    now = now or utcnow()
    names = []
    for name, cron in session.execute(
        select(JobSchedule.name, JobSchedule.cron).order_by(JobSchedule.name)
    ):
        first = next_run(cron, now)
        if (next_run(cron, first) - first).total_seconds() < FREQUENT_SECONDS:
            names.append(name)
    return names


def task_names(session: Session) -> list[str]:
    """The tasks that have jobs (a filter's choices; read from ix_jobs_task_state)."""
    return list(session.scalars(select(Job.task).distinct().order_by(Job.task)))


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def queue_health(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """Counts by state, the oldest due job and how long it has waited (the queue lag)."""
    now = now or utcnow()
    counts = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    oldest = session.execute(
        select(Job.id, Job.task, Job.run_at)
        .where(Job.state == JobState.queued.value, Job.run_at <= now)
        .order_by(Job.run_at, Job.id)
        .limit(1)
    ).first()
    return {
        "counts": {state: int(counts.get(state, 0)) for state in STATES},
        "oldest_waiting": (
            {"id": oldest.id, "task": oldest.task, "run_at": oldest.run_at} if oldest else None
        ),
        "lag_seconds": round((now - oldest.run_at).total_seconds(), 1) if oldest else 0.0,
    }


def list_schedules(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "task": s.task,
            "then": list(s.then or []),
            "cron": s.cron,
            "enabled": s.enabled,
            "last_run_at": s.last_run_at,
            "next_run_at": s.next_run_at,
            "last_job_id": s.last_job_id,
        }
        for s in session.scalars(select(JobSchedule).order_by(JobSchedule.name))
    ]


def pending_toward(session: Session, task: str) -> bool:
    """Whether ``task`` is queued or running, or a pending chain will enqueue it (a
    card that shows its result says "computing"). A chain's later steps are not jobs
    yet: they are names in the pending step's ``then``."""
    in_then = cast(Job.then, String).contains(f'"{task}"', autoescape=True)
    query = exists().where(Job.state.in_(PENDING), or_(Job.task == task, in_then))
    return bool(session.scalar(select(query)))


def pending_tasks(session: Session, tasks: Iterable[str]) -> set[str]:
    """Which of ``tasks`` are queued or running now (pages say "computing")."""
    names = list(tasks)
    if not names:
        return set()
    rows = session.scalars(
        select(Job.task).where(Job.task.in_(names), Job.state.in_(PENDING)).distinct()
    )
    return set(rows)
