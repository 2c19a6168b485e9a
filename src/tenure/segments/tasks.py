"""The segments capability's jobs."""

from __future__ import annotations

from typing import Any

from tenure.jobs import PRIORITY_BULK, JobContext, task
from tenure.segments.actions import refresh_all_segments
from tenure.workspace.settings import currency


@task("segments.refresh_all", priority=PRIORITY_BULK, max_attempts=3, timeout_seconds=3600)
def refresh_all_segments_job(ctx: JobContext) -> dict[str, Any]:
    """Refresh every dynamic segment (built-ins included).

    One transaction per segment (at least once): a repeat finds the members already up to
    date and records no entries or exits twice.
    """
    with ctx.session_factory() as session:
        workspace_currency = currency(session, ctx.settings)
    changes, failed = refresh_all_segments(
        session_factory=ctx.session_factory, currency=workspace_currency
    )
    return {
        "segments": len(changes),
        "members": {c.name: c.members for c in changes},
        "failed": failed,
    }
