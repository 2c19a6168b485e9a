"""Test handlers: write one row per run into ``job_effects`` in the job's transaction.

Imported by the tests and by the worker processes they start (tests/jobs/run_worker.py).
"""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import Engine, text

from tenure.jobs import JobContext, task
from tenure.jobs.registry import Outcome, batch_task

EFFECTS_DDL = (
    "CREATE TABLE job_effects (job_id BIGINT NOT NULL, attempt INTEGER NOT NULL, "
    "idempotency_key VARCHAR(200) NOT NULL, value VARCHAR(200))"
)


def create_effects_table(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(EFFECTS_DDL))


@task("test.write_effect", max_attempts=3, timeout_seconds=120)
def write_effect(ctx: JobContext) -> dict[str, Any]:
    """Write a row; ``fail_until`` fails the first attempts, ``sleep_on`` sleeps in one
    (after writing, or before with ``sleep_first``: then SQLite's write lock is not held)."""
    if ctx.payload.get("sleep_first") and ctx.attempt == int(ctx.payload.get("sleep_on", 0)):
        time.sleep(float(ctx.payload.get("sleep", 60)))
    ctx.session.execute(
        text(
            "INSERT INTO job_effects (job_id, attempt, idempotency_key, value) "
            "VALUES (:job, :attempt, :key, :value)"
        ),
        {
            "job": ctx.job_id,
            "attempt": ctx.attempt,
            "key": ctx.idempotency_key,
            "value": str(ctx.payload.get("value", "")),
        },
    )
    if ctx.attempt <= int(ctx.payload.get("fail_until", 0)):
        raise RuntimeError(f"failing attempt {ctx.attempt} on purpose")
    if not ctx.payload.get("sleep_first") and ctx.attempt == int(ctx.payload.get("sleep_on", 0)):
        time.sleep(float(ctx.payload.get("sleep", 60)))
    return {"attempt": ctx.attempt}


BATCH_CALLS: list[list[int]] = []


@batch_task("test.write_effects", batch_size=4, max_attempts=3, timeout_seconds=120)
def write_effects(contexts: list[JobContext]) -> list[Outcome]:
    """A batch task: one call for several jobs, a row each in their shared transaction;
    ``fail_until`` makes that job's outcome an error (its row is written all the same)."""
    BATCH_CALLS.append([c.job_id for c in contexts])
    outcomes: list[Outcome] = []
    for ctx in contexts:
        ctx.session.execute(
            text(
                "INSERT INTO job_effects (job_id, attempt, idempotency_key, value) "
                "VALUES (:job, :attempt, :key, 'batch')"
            ),
            {"job": ctx.job_id, "attempt": ctx.attempt, "key": ctx.idempotency_key},
        )
        if ctx.attempt <= int(ctx.payload.get("fail_until", 0)):
            outcomes.append(RuntimeError(f"failing attempt {ctx.attempt} on purpose"))
        else:
            outcomes.append({"attempt": ctx.attempt, "batch": len(contexts)})
    return outcomes


STARTS_DDL = "CREATE TABLE job_starts (job_id BIGINT NOT NULL, worker VARCHAR(100))"


@task("test.log_start", max_attempts=3, timeout_seconds=120)
def log_start(ctx: JobContext) -> None:
    """Log the start in a transaction of its own (PostgreSQL only), then write the effect."""
    with ctx.session_factory() as own:
        own.execute(
            text("INSERT INTO job_starts (job_id, worker) VALUES (:job, :pid)"),
            {"job": ctx.job_id, "pid": str(os.getpid())},
        )
        own.commit()
    time.sleep(0.002)  # widen the window in which a second claimer could start it too
    write_effect(ctx)
