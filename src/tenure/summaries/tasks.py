"""The read model's job: rebuild the stale summaries."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.summaries.reactions import TASK

__all__ = ["TASK", "rebuild_stale_job"]
from tenure.summaries.rebuild import rebuild_stale


@task(TASK, priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def rebuild_stale_job(ctx: JobContext) -> dict[str, Any]:
    """Assemble and store every stale summary (batches commit on their own: a repeat
    rebuilds only what is still stale)."""
    return {"rebuilt": rebuild_stale(ctx.session_factory)}
