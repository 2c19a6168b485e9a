"""Pruning the jobs table: settled jobs past their retention (docs/jobs.md, "Pruning").

Every per-minute schedule adds a succeeded row a minute, so without pruning the table
grows forever and the jobs page's newest rows are all housekeeping. The daily
``jobs.prune`` job deletes:

* succeeded and cancelled jobs finished more than ``TENURE_JOB_LOG_DAYS`` ago;
* dead jobs finished more than ``TENURE_JOB_DEAD_DAYS`` ago: a failure is what an admin
  investigates or retries, and may be noticed late (a monthly check), so it is kept
  longer; one retried is queued again and ages from its new end.

It never deletes a queued or running job, a schedule's last job (the schedules list
names it), nor a job whose next chain step is still pending (the nightly chain stays
whole while it runs). Other tables name jobs without a foreign key (a message's or a
webhook delivery's ``job_id``: the job that delivers it now), and read them only while
the job is pending, so a settled job going leaves nothing dangling that matters.

Ages are system time (``finished_at``, when a worker settled the job), not the
workspace's business clock. Deletes go in chunks of ``CHUNK`` ids, each its own
transaction walking the primary key upwards, so SQLite's write lock is held briefly;
a retry after a crash deletes what is left (idempotent).

An idempotency key is remembered as long as its job is: enqueueing a key again after
its job was pruned makes a new job. Every key Tenure uses names a one-off cause (a
message, a delivery, a schedule's time), so none comes back after two weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.session import unit_of_work
from tenure.jobs.models import Job, JobSchedule, JobState

PRUNE_TASK = "jobs.prune"
#: Jobs deleted per transaction: a few milliseconds of SQLite's write lock.
CHUNK = 1000

SETTLED = (JobState.succeeded.value, JobState.cancelled.value)
PENDING = (JobState.queued.value, JobState.running.value)
#: A chain step's idempotency key is ``then:<the previous step's key>:<its task>``.
CHAIN_PREFIX = "then:"


def chain_parent_keys(session: Session) -> list[str]:
    """Idempotency keys of the jobs whose next chain step is queued or running."""
    rows = session.execute(
        select(Job.task, Job.idempotency_key).where(
            Job.state.in_(PENDING), Job.idempotency_key.startswith(CHAIN_PREFIX)
        )
    )
    keys = []
    for task, key in rows:
        suffix = f":{task}"
        if key.endswith(suffix):
            keys.append(key[len(CHAIN_PREFIX) : -len(suffix)])
    return keys


def _prunable(settled_before: datetime, dead_before: datetime) -> ColumnElement[bool]:
    finished = func.coalesce(Job.finished_at, Job.created_at)
    # ``state || ''`` keeps the planners off ix_jobs_claim: through it, every chunk would
    # read and sort all the settled jobs (measured on SQLite); walking the primary key up
    # from the last chunk finds the oldest rows, the prunable ones, at once.
    state = Job.state.concat("")
    return or_(
        and_(state.in_(SETTLED), finished < settled_before),
        and_(state == JobState.dead.value, finished < dead_before),
    )


def _next_chunk(
    session: Session,
    after: int,
    condition: ColumnElement[bool],
    kept_keys: Sequence[str],
    chunk: int,
) -> list[int]:
    query = (
        select(Job.id)
        .where(
            Job.id > after,
            condition,
            Job.id.not_in(
                select(JobSchedule.last_job_id).where(JobSchedule.last_job_id.is_not(None))
            ),
        )
        .order_by(Job.id)
        .limit(chunk)
    )
    if kept_keys:
        query = query.where(Job.idempotency_key.not_in(kept_keys))
    return list(session.scalars(query))


def prune_jobs(
    factory: sessionmaker[Session],
    *,
    settled_before: datetime,
    dead_before: datetime,
    chunk: int = CHUNK,
) -> dict[str, int]:
    """Delete the settled jobs past their retention (see the module); returns how many,
    by state."""
    with factory() as session:
        kept_keys = chain_parent_keys(session)
    condition = _prunable(settled_before, dead_before)
    deleted: dict[str, int] = {}
    after = 0
    while True:
        with unit_of_work(factory) as session:
            ids = _next_chunk(session, after, condition, kept_keys, chunk)
            if not ids:
                break
            after = ids[-1]
            # The condition again: a dead job an admin retried meanwhile is queued now.
            rows = session.execute(
                delete(Job)
                .where(Job.id.in_(ids), condition)
                .returning(Job.state)
                .execution_options(synchronize_session=False)
            ).all()
            for (state,) in rows:
                deleted[state] = deleted.get(state, 0) + 1
    return {state: deleted.get(state, 0) for state in (*SETTLED, JobState.dead.value)}
