"""The messaging capability's jobs: one job per email (docs/messaging.md), run in
batches of up to ``sending.BATCH_SIZE`` by a worker slot."""

from __future__ import annotations

from tenure.jobs import PRIORITY_TRANSACTIONAL, JobContext
from tenure.jobs.registry import Outcome, batch_task
from tenure.messaging.sending import BATCH_SIZE, MAX_ATTEMPTS, SEND_TASK, Attempt, send_messages


# Each job's priority is set when it is queued (transactional 0, marketing 100).
@batch_task(
    SEND_TASK,
    batch_size=BATCH_SIZE,
    priority=PRIORITY_TRANSACTIONAL,
    max_attempts=MAX_ATTEMPTS,
    timeout_seconds=120,
)
def send_email_jobs(contexts: list[JobContext]) -> list[Outcome]:
    """Send outbox emails (consent, fatigue, quiet hours and limits checked first)."""
    first = contexts[0]
    return send_messages(
        first.session,
        first.session_factory,
        first.settings,
        [Attempt(c.job_id, c.attempt, int(c.payload["message_id"])) for c in contexts],
    )
