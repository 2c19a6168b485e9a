"""The lifecycle capability's jobs."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.lifecycle.actions import describe, evaluate_all_stages


@task("lifecycle.evaluate_all", priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def evaluate_all_stages_job(ctx: JobContext) -> dict[str, Any]:
    """Re-place the people whose inputs changed (after the scores changed), everyone when
    the clock or the rules moved (``tenure.lifecycle.placement``) or the payload says
    ``{"full": true}``.

    Commits chunk by chunk (at least once): a repeat writes only what is still different.
    """
    full = bool(ctx.payload.get("full", False))
    return describe(evaluate_all_stages(session_factory=ctx.session_factory, full=full))
