"""Batch tasks (``jobs.registry.batch_task``) on both databases: the worker hands several
claimed jobs of the task to one handler call; the jobs that succeeded complete in one
transaction with what the handler wrote, the failed ones are retried with backoff, and
a lost lease commits nothing of the batch."""

from __future__ import annotations

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.jobs import enqueue
from tenure.jobs.batches import execute_batch
from tenure.jobs.models import Job
from tenure.jobs.runner import LeaseLost, claim_batch
from tenure.jobs.worker import Worker
from tests.jobs.handlers import BATCH_CALLS

TASK = "test.write_effects"


def _enqueue_many(engine: Engine, payloads: list[dict]) -> list[int]:
    with Session(engine) as session:
        ids = [enqueue(session=session, task=TASK, payload=p) for p in payloads]
        session.commit()
    return ids


def _effects(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT job_id, attempt FROM job_effects ORDER BY 1, 2"))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_batch_runs_in_one_call_and_a_failed_job_is_retried_alone(
    job_engine: Engine, job_settings: Settings
) -> None:
    BATCH_CALLS.clear()
    ids = _enqueue_many(job_engine, [{}, {"fail_until": 1}, {}, {}, {}, {}])
    worker = Worker(engine=job_engine, settings=job_settings, concurrency=1, poll_seconds=0.05)
    worker.run(until_empty=True)

    # Six jobs in two calls at most four at a time (the first claim takes one job)
    assert sorted(j for call in BATCH_CALLS for j in call) == ids
    assert max(len(call) for call in BATCH_CALLS) == 4 and len(BATCH_CALLS) <= 3
    with Session(job_engine) as session:
        jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))}
    failed = ids[1]
    assert jobs[failed].state == "queued" and "on purpose" in (jobs[failed].error or "")
    assert all(jobs[i].state == "succeeded" for i in ids if i != failed)
    # Every job's row committed, the failed one's too (the batch's transaction committed)
    assert _effects(job_engine) == [(i, 1) for i in ids]
    assert worker.completed == 5 and worker.failed == 1


def test_a_batch_whose_lease_was_lost_commits_nothing(
    job_engine: Engine, job_settings: Settings
) -> None:
    _enqueue_many(job_engine, [{}, {}])
    jobs = claim_batch(job_engine, worker="w", limit=2, lease_seconds=60)
    assert len(jobs) == 2
    with job_engine.begin() as connection:  # the second job's lease went to another worker
        connection.execute(
            text("UPDATE jobs SET lease_token = 'other' WHERE id = :id"), {"id": jobs[1].id}
        )
    try:
        execute_batch(jobs, engine=job_engine, settings=job_settings)
    except LeaseLost:
        pass
    else:
        raise AssertionError("a batch with a lost lease completed")
    assert _effects(job_engine) == []
    with Session(job_engine) as session:
        states = set(session.scalars(select(Job.state)))
    assert states == {"running"}
