"""The retention capability's jobs: risk and alerts, and the next-best-action rules."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.retention.actions import record_nba_rules, refresh_retention


@task("retention.refresh", priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def refresh_retention_job(ctx: JobContext) -> dict[str, Any]:
    """Recompute signals and risk; open and close alert episodes and their tasks.

    Written in the job's own transaction: alerts and tasks are created exactly once.
    """
    result = refresh_retention(session=ctx.session)
    return {
        "customers_with_signals": result.customers_with_signals,
        "above_threshold": result.above_threshold,
        "alerts_opened": result.alerts.opened,
        "alerts_closed": result.alerts.closed,
        "tasks_created": result.alerts.tasks,
    }


@task("retention.mine_nba", priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def mine_nba_rules_job(ctx: JobContext) -> dict[str, Any]:
    """Mine the next-best-action rules from order items (in the job's transaction)."""
    run = record_nba_rules(session=ctx.session)
    return {"rules": run.rules, "buyers": run.buyers}
