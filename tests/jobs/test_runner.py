"""The runner on both databases: outbox, effects once, retries, dead letters, unique jobs,
idempotency keys, priorities, timeouts, cancel and retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput
from tenure.jobs import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, enqueue, registry
from tenure.jobs.actions import cancel_job, retry_job
from tenure.jobs.models import Job
from tenure.jobs.runner import claim_batch, execute, reap_expired, record_failure
from tenure.jobs.worker import Worker

TASK = "test.write_effect"


def _enqueue(engine: Engine, **kwargs: object) -> int:
    with Session(engine) as session:
        job_id = enqueue(session=session, task=TASK, **kwargs)  # type: ignore[arg-type]
        session.commit()
    return job_id


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _effects(engine: Engine, job_id: int) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT attempt, idempotency_key FROM job_effects WHERE job_id = :j"),
            {"j": job_id},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _drain(engine: Engine, settings: Settings) -> Worker:
    worker = Worker(engine=engine, settings=settings, concurrency=2, poll_seconds=0.05)
    worker.run(until_empty=True)
    return worker


def test_a_job_exists_only_if_its_transaction_commits(job_engine: Engine) -> None:
    # Given a job enqueued in a transaction that rolls back
    with Session(job_engine) as session:
        enqueue(session=session, task=TASK, payload={"value": "lost"})
        session.rollback()
    # Then there is no job
    with Session(job_engine) as session:
        assert session.scalars(select(Job)).all() == []


def test_a_job_runs_once_and_its_effect_commits_with_its_completion(
    job_engine: Engine, job_settings: Settings
) -> None:
    job_id = _enqueue(job_engine, payload={"value": "hello"})
    _drain(job_engine, job_settings)
    job = _job(job_engine, job_id)
    assert (job.state, job.attempts, job.result) == ("succeeded", 1, {"attempt": 1})
    assert _effects(job_engine, job_id) == [(1, job.idempotency_key)]


def test_a_failing_job_backs_off_then_is_dead_lettered_with_its_traceback(
    job_engine: Engine, job_settings: Settings
) -> None:
    job_id = _enqueue(job_engine, payload={"fail_until": 9}, max_attempts=2)
    before = utcnow()
    _drain(job_engine, job_settings)
    # After the first failure: queued again, later (backoff), nothing written
    job = _job(job_engine, job_id)
    assert job.state == "queued" and job.attempts == 1
    assert job.run_at > before + timedelta(seconds=2)
    assert job.error == "RuntimeError: failing attempt 1 on purpose"
    assert _effects(job_engine, job_id) == []
    # When the backoff has passed, the last attempt fails too: dead, with the traceback
    with job_engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
    _drain(job_engine, job_settings)
    job = _job(job_engine, job_id)
    assert (job.state, job.attempts) == ("dead", 2)
    assert job.traceback is not None and "failing attempt 2 on purpose" in job.traceback
    assert _effects(job_engine, job_id) == []
    # And an admin's retry runs it again with fresh attempts (it fails on attempt 1 only now)
    with job_engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(payload={"fail_until": 0}))
    with Session(job_engine) as session:
        retry_job(session=session, job_id=job_id, actor=None)
        session.commit()
    _drain(job_engine, job_settings)
    assert _job(job_engine, job_id).state == "succeeded"
    assert len(_effects(job_engine, job_id)) == 1


def test_idempotency_and_unique_keys_deduplicate(job_engine: Engine) -> None:
    first = _enqueue(job_engine, idempotency_key="welcome-email:42")
    assert _enqueue(job_engine, idempotency_key="welcome-email:42") == first
    pending = _enqueue(job_engine, unique_key="refresh")
    assert _enqueue(job_engine, unique_key="refresh") == pending
    # Once the pending one runs, a new one may wait behind it
    claimed = claim_batch(job_engine, worker="w", limit=10, lease_seconds=30)
    assert {j.id for j in claimed} == {first, pending}
    assert _enqueue(job_engine, unique_key="refresh") not in (first, pending)


def test_transactional_work_is_claimed_before_bulk_work(job_engine: Engine) -> None:
    bulk = _enqueue(job_engine, priority=PRIORITY_BULK)
    urgent = _enqueue(job_engine, priority=PRIORITY_TRANSACTIONAL)
    later = _enqueue(job_engine, delay=timedelta(hours=1))
    first = claim_batch(job_engine, worker="w", limit=1, lease_seconds=30)
    second = claim_batch(job_engine, worker="w", limit=5, lease_seconds=30)
    assert [j.id for j in first] == [urgent]
    assert [j.id for j in second] == [bulk]  # the deferred one is not due
    assert _job(job_engine, later).state == "queued"


def test_a_job_whose_lease_expired_cannot_commit_and_is_picked_up_again(
    job_engine: Engine, job_settings: Settings
) -> None:
    job_id = _enqueue(job_engine)
    (stale,) = claim_batch(job_engine, worker="dead", limit=1, lease_seconds=30)
    # Given the worker stopped renewing and its lease ran out
    with job_engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert reap_expired(job_engine) == 1
    assert _job(job_engine, job_id).state == "queued"
    # When the old worker wakes up and finishes, its completion is refused
    with pytest.raises(Exception, match="lost its lease"):
        execute(stale, engine=job_engine, settings=job_settings)
    assert record_failure(job_engine, stale, "late") is None
    # And another worker runs it: the effect happens once
    _drain(job_engine, job_settings)
    job = _job(job_engine, job_id)
    assert (job.state, job.attempts) == ("succeeded", 2)
    assert _effects(job_engine, job_id) == [(2, job.idempotency_key)]


def test_a_job_past_its_timeout_is_failed_and_its_writes_rolled_back(
    job_engine: Engine, job_settings: Settings
) -> None:
    job_id = _enqueue(
        job_engine, payload={"sleep_on": 1, "sleep": 2}, timeout_seconds=1, max_attempts=1
    )
    _drain(job_engine, job_settings)
    job = _job(job_engine, job_id)
    assert job.state == "dead"
    assert job.error == "timed out after 1 s" or "TimeoutError" in (job.error or "")
    assert _effects(job_engine, job_id) == []


def test_cancel_refuses_a_running_jobs_completion(
    job_engine: Engine, job_settings: Settings
) -> None:
    job_id = _enqueue(job_engine)
    (claimed,) = claim_batch(job_engine, worker="w", limit=1, lease_seconds=30)
    with Session(job_engine) as session:
        cancel_job(session=session, job_id=job_id, actor=None)
        session.commit()
    with pytest.raises(Exception, match="lost its lease"):
        execute(claimed, engine=job_engine, settings=job_settings)
    assert _job(job_engine, job_id).state == "cancelled"
    assert _effects(job_engine, job_id) == []
    with Session(job_engine) as session, pytest.raises(Conflict):
        cancel_job(session=session, job_id=job_id, actor=None)


def test_a_chain_enqueues_each_step_when_the_previous_succeeded(
    job_engine: Engine, job_settings: Settings
) -> None:
    first = _enqueue(job_engine, then=[TASK, TASK], payload={"value": "step"})
    _drain(job_engine, job_settings)
    with Session(job_engine) as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
    assert jobs[0].id == first
    assert [(j.state, list(j.then)) for j in jobs] == [
        ("succeeded", [TASK, TASK]),
        ("succeeded", [TASK]),
        ("succeeded", []),
    ]


def test_a_worker_limited_to_some_queues_claims_only_theirs(job_engine: Engine) -> None:
    mail = _enqueue(job_engine, queue="mail")
    _enqueue(job_engine, queue="bulk")
    claimed = claim_batch(job_engine, worker="w", limit=5, lease_seconds=30, queues=("mail",))
    assert [j.id for j in claimed] == [mail]


def test_enqueue_refuses_a_task_with_no_handler_once_all_are_registered(
    job_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tenure.all_tasks  # noqa: F401  (registers every handler and says so)

    with Session(job_engine) as session:
        with pytest.raises(InvalidInput) as refused:
            enqueue(session=session, task="segments.refresh_everything")
        assert refused.value.field == "task"
        assert "segments.refresh_everything" in refused.value.reason
        with pytest.raises(InvalidInput) as refused:
            enqueue(session=session, task=TASK, then=[TASK, "scores.typo"])
        assert (refused.value.field, "scores.typo" in refused.value.reason) == ("then", True)
        session.rollback()
    with Session(job_engine) as session:
        assert session.scalars(select(Job)).all() == []
    # A script that imported one capability only cannot know every name: it is trusted
    monkeypatch.setattr(registry, "_registry_complete", False)
    job_id = _enqueue(job_engine, then=["not.loaded.here"])
    assert _job(job_engine, job_id).then == ["not.loaded.here"]
