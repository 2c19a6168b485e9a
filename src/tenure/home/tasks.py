"""Home's job: recompute every book's stored key figures (``home.figures``)."""

from __future__ import annotations

from typing import Any

from tenure.home.figures import refresh
from tenure.jobs import PRIORITY_BULK, JobContext, task

TASK = "home.figures"
#: How often the schedule recomputes them (``tenure.all_tasks``); the page says when.
CRON = "*/15 * * * *"


@task(TASK, priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=1800)
def refresh_figures_job(ctx: JobContext) -> dict[str, Any]:
    """Compute and store the figures of everyone's book and of each owner's, in the job's
    transaction (a page reads either the old set or the new one)."""
    return {"books": refresh(ctx.session)}
