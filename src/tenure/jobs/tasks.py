"""The jobs capability's own job: the daily pruning of settled jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tenure.db.types import utcnow
from tenure.jobs.pruning import PRUNE_TASK, prune_jobs
from tenure.jobs.registry import JobContext, task


@task(PRUNE_TASK, max_attempts=3, timeout_seconds=3600)
def prune_jobs_job(ctx: JobContext) -> dict[str, Any]:
    """Delete settled jobs past TENURE_JOB_LOG_DAYS (dead ones: TENURE_JOB_DEAD_DAYS)."""
    now = utcnow()
    settled_before = now - timedelta(days=ctx.settings.job_log_days)
    dead_before = now - timedelta(days=ctx.settings.job_dead_days)
    deleted = prune_jobs(
        ctx.session_factory, settled_before=settled_before, dead_before=dead_before
    )
    return {"settled_before": settled_before, "dead_before": dead_before, "deleted": deleted}


__all__ = ["PRUNE_TASK", "prune_jobs_job"]
