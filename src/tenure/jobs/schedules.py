"""Cron schedules: copied from code to ``job_schedules``, turned into jobs when due.

Every worker ticks the schedules; the job's idempotency key names the schedule and the
time it was due, so two workers ticking at once enqueue one job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from croniter import croniter
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import InvalidInput
from tenure.jobs.enqueue import enqueue
from tenure.jobs.models import JobSchedule
from tenure.jobs.registry import Schedule, get_task, is_registry_complete
from tenure.jobs.runner import immediate

log = logging.getLogger("tenure.jobs")


def check_cron(expression: str, field: str = "cron") -> str:
    if not croniter.is_valid(expression):
        raise InvalidInput(field, f"{expression!r} is not a cron expression (e.g. '0 3 * * *')")
    return expression


def next_run(expression: str, after: datetime) -> datetime:
    """The first time after ``after`` (UTC) that ``expression`` matches."""
    value: datetime = croniter(expression, after).get_next(datetime)
    return value


def sync_schedules(session: Session, schedules: Iterable[Schedule]) -> None:
    """Create or update the stored schedules from code (the caller commits).

    A new schedule is due at once: a fresh workspace computes its nightly chain when the
    first worker starts rather than the next night. A changed cron expression moves the
    next run to the expression's next match.
    """
    now = utcnow()
    for schedule in schedules:
        check_cron(schedule.cron)
        row = session.get(JobSchedule, schedule.name)
        if row is None:
            session.add(
                JobSchedule(
                    name=schedule.name,
                    task=schedule.task,
                    cron=schedule.cron,
                    then=list(schedule.then),
                    enabled=True,
                    next_run_at=now,
                )
            )
        elif row.cron != schedule.cron or row.task != schedule.task:
            row.cron, row.task = schedule.cron, schedule.task
            row.then = list(schedule.then)
            row.next_run_at = next_run(schedule.cron, now)
        elif list(row.then) != list(schedule.then):
            row.then = list(schedule.then)
    session.flush()


def _wanted(session: Session, schedule: Schedule) -> bool:
    """The schedule's ``wanted`` answer; True when it has none, or when it failed (the
    job runs as if there were no check, rather than the schedule stopping unseen)."""
    if schedule.wanted is None:
        return True
    try:
        with session.begin_nested():
            return schedule.wanted(session)
    except Exception:
        log.exception("schedule %s: its wanted check failed; enqueued anyway", schedule.name)
        return True


def enqueue_due(
    engine: Engine, *, now: datetime | None = None, schedules: Iterable[Schedule] = ()
) -> list[int]:
    """Enqueue a job for every enabled schedule whose time has come; returns job ids.

    ``schedules`` are the declarations in code: one with a ``wanted`` check that answers
    False is moved to its next time with no job enqueued."""
    now = now or utcnow()
    declared = {s.name: s for s in schedules}
    created: list[int] = []
    with Session(bind=immediate(engine), expire_on_commit=False) as session:
        due = session.scalars(
            select(JobSchedule)
            .where(JobSchedule.enabled.is_(True), JobSchedule.next_run_at <= now)
            .with_for_update(skip_locked=True)
        ).all()
        for schedule in due:
            if is_registry_complete() and get_task(schedule.task) is None:
                # A schedule left in the database by a task since removed: skip it to
                # its next time rather than fail every other schedule's enqueue.
                log.warning("schedule %s names no registered task", schedule.name)
                schedule.next_run_at = next_run(schedule.cron, now)
                continue
            code = declared.get(schedule.name)
            if code is not None and not _wanted(session, code):
                # Nothing to do now: no job row (last_run_at still names the last job).
                schedule.next_run_at = next_run(schedule.cron, now)
                continue
            job_id = enqueue(
                session=session,
                task=schedule.task,
                then=schedule.then,
                schedule=schedule.name,
                run_at=now,
                idempotency_key=f"schedule:{schedule.name}:{schedule.next_run_at.isoformat()}",
                unique_key=f"schedule:{schedule.name}",
            )
            schedule.last_run_at = now
            schedule.last_job_id = job_id
            schedule.next_run_at = next_run(schedule.cron, now)
            created.append(job_id)
        session.commit()
    return created
