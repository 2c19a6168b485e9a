"""Retry and cancel: what an admin does from the jobs page, the API or the CLI.

Each checks the actor (``JOB_ADMINS``) and commits its own work; ``actor=None`` is the
operator at the command line.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import Conflict, NotFound
from tenure.identity.audit import record_audit
from tenure.identity.permissions import JOB_ADMINS, Actor, authorize
from tenure.jobs.models import Job, JobState

RETRYABLE = (JobState.dead.value, JobState.cancelled.value)
CANCELLABLE = (JobState.queued.value, JobState.running.value)


def _job(session: Session, job_id: int) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None:
        raise NotFound("job", job_id)
    return job


def retry_job(*, session: Session, job_id: int, actor: Actor | None) -> Job:
    """Queue a dead or cancelled job again now, with a fresh set of attempts; committed."""
    actor_id = authorize(actor, JOB_ADMINS)
    job = _job(session, job_id)
    if job.state not in RETRYABLE:
        raise Conflict(f"job {job_id} is {job.state}; only dead or cancelled jobs are retried")
    if job.unique_key is not None and session.scalar(
        select(Job.id).where(Job.unique_key == job.unique_key, Job.state == JobState.queued.value)
    ):
        raise Conflict(f"the same work ({job.unique_key}) is already queued")
    before = job.state
    job.state = JobState.queued.value
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="retry",
        entity_type="job",
        entity_id=job.id,
        changes={"state": {"before": before, "after": job.state}},
    )
    session.commit()
    return job


def cancel_job(*, session: Session, job_id: int, actor: Actor | None) -> Job:
    """Cancel a queued or running job; a running one's work is rolled back when it ends
    (its lease is gone, so its completion is refused). Committed."""
    actor_id = authorize(actor, JOB_ADMINS)
    job = _job(session, job_id)
    if job.state not in CANCELLABLE:
        raise Conflict(f"job {job_id} is {job.state}; only queued or running jobs are cancelled")
    before = job.state
    job.state = JobState.cancelled.value
    job.lease_token = None
    job.lease_expires_at = None
    job.finished_at = utcnow()
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="cancel",
        entity_type="job",
        entity_id=job.id,
        changes={"state": {"before": before, "after": job.state}},
    )
    session.commit()
    return job
