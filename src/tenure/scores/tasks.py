"""The scores capability's jobs."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.scores.refresh import refresh_scores


@task(
    "scores.refresh", queue="default", priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600
)
def refresh_scores_job(ctx: JobContext) -> dict[str, Any]:
    """Recompute every customer's scores and the model reports.

    Commits in transactions of its own (at least once): a repeat recomputes the same
    scores and writes only the rows that differ.
    """
    result = refresh_scores(settings=ctx.settings, session_factory=ctx.session_factory)
    return {
        "customers": result.customers,
        "changed": len(result.changed_person_ids),
        "version": result.version,
        "reports": result.reports,
    }
