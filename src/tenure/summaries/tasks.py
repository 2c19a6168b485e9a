"""The read model's job: rebuild the stale summaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.summaries.reactions import TASK
from tenure.summaries.rebuild import STALE, SUMMARIES, rebuild_stale

__all__ = ["TASK", "any_stale", "rebuild_stale_job"]


def any_stale(session: Session) -> bool:
    """Whether the catch-up schedule has work (one probe of the stale-rows index):
    otherwise its tick enqueues no job (docs/jobs.md)."""
    probe = select(SUMMARIES.c.person_id).where(STALE).limit(1)
    return session.scalar(probe) is not None


@task(TASK, priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def rebuild_stale_job(ctx: JobContext) -> dict[str, Any]:
    """Assemble and store every stale summary (batches commit on their own: a repeat
    rebuilds only what is still stale)."""
    return {"rebuilt": rebuild_stale(ctx.session_factory)}
