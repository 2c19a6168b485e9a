"""Running the jobs of a batch task together (``jobs.registry.batch_task``).

The worker hands a slot's claimed jobs of one batch task to a single handler call: one
transaction completes every job that succeeded, each fenced by its own lease, and claims
the slot's next jobs, as :func:`tenure.jobs.runner.execute` does for one job. For small
jobs whose own statements cost less than a transaction (an email: its send-time checks
read once for the batch, its outcome written with the others').
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.jobs.registry import get_task
from tenure.jobs.runner import (
    Claimed,
    NextClaim,
    check_timeout,
    complete_and_claim,
    immediate,
    job_context,
    json_ready,
)


@dataclass(frozen=True)
class ExecutedBatch:
    results: dict[int, dict[str, Any] | None]
    #: Jobs whose handler outcome was an error: the caller records their failure.
    failures: list[tuple[Claimed, BaseException]]
    next_jobs: list[Claimed]


def execute_batch(
    jobs: list[Claimed],
    *,
    engine: Engine,
    settings: Settings,
    session_factory: sessionmaker[Session] | None = None,
    claim_next: NextClaim | None = None,
    connection: Connection | None = None,
) -> ExecutedBatch:
    """Run jobs of one batch task (``jobs.registry.batch_task``) together: one handler
    call, one transaction that completes every job that succeeded, each fenced by its
    lease, and claims the next. Jobs whose outcome is an error are returned for the
    caller to fail (after this commit, so what the handler wrote for them, a retry's
    reason, is kept). Raises what the handler raised, or :class:`LeaseLost` if any job of
    the batch lost its lease: then nothing is committed.
    """
    registered = get_task(jobs[0].task)
    if registered is None or registered.batch_handler is None:
        raise LookupError(f"no batch handler registered for task {jobs[0].task!r}")
    factory = session_factory or sessionmaker(bind=engine, expire_on_commit=False)
    bind: Engine | Connection = connection if connection is not None else immediate(engine)
    with Session(bind=bind, expire_on_commit=False) as session:
        contexts = [job_context(job, session, factory, settings) for job in jobs]
        started = time.monotonic()
        try:
            outcomes = registered.batch_handler(contexts)
            if len(outcomes) != len(jobs):
                raise RuntimeError(f"{jobs[0].task}: {len(outcomes)} outcomes for {len(jobs)} jobs")
            check_timeout(jobs[0], started)
            done: list[tuple[Claimed, dict[str, Any] | None]] = []
            failures: list[tuple[Claimed, BaseException]] = []
            for job, outcome in zip(jobs, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    failures.append((job, outcome))
                else:
                    done.append((job, json_ready(outcome)))
            following = complete_and_claim(session, done, claim_next, started, count=len(jobs))
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return ExecutedBatch(
        results={job.id: result for job, result in done}, failures=failures, next_jobs=following
    )
