"""The messaging capability's jobs: one job per email (docs/messaging.md)."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_TRANSACTIONAL, JobContext, task
from tenure.messaging.sending import MAX_ATTEMPTS, SEND_TASK, Attempt, send_message


# Each job's priority is set when it is queued (transactional 0, marketing 100).
@task(SEND_TASK, priority=PRIORITY_TRANSACTIONAL, max_attempts=MAX_ATTEMPTS, timeout_seconds=120)
def send_email_job(ctx: JobContext) -> dict[str, Any]:
    """Send one outbox email (consent, fatigue, quiet hours and limits checked first)."""
    return send_message(
        Attempt(job_id=ctx.job_id, attempt=ctx.attempt, session=ctx.session, settings=ctx.settings),
        int(ctx.payload["message_id"]),
    )
