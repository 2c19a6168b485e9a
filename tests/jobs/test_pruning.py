"""The jobs table is pruned by its daily job: succeeded and cancelled jobs finished before
TENURE_JOB_LOG_DAYS go, dead ones only after TENURE_JOB_DEAD_DAYS; pending jobs, a
schedule's last job and a job whose chain step is still pending stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tenure.all_tasks import JOB_PRUNING, schedules
from tenure.config import Settings
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.types import utcnow
from tenure.jobs import enqueue
from tenure.jobs.models import Job, JobSchedule
from tenure.jobs.pruning import PRUNE_TASK, prune_jobs
from tenure.jobs.worker import Worker

TASK = "test.write_effect"


def _job(session: Session, name: str, state: str, days: float | None, **extra: object) -> int:
    """A job settled ``days`` ago, created a day before that; with ``days`` None, a
    pending one created 40 days ago, due tomorrow (the test's worker leaves it alone)."""
    now = utcnow()
    created = now - timedelta(days=(days or 40) + 1)
    job = Job(
        task=TASK,
        state=state,
        idempotency_key=str(extra.pop("key", f"test:{name}")),
        run_at=created if days is not None else now + timedelta(days=1),
        created_at=created,
        finished_at=None if days is None else now - timedelta(days=days),
        **extra,
    )
    session.add(job)
    session.flush()
    return job.id


def test_the_scheduled_job_deletes_settled_jobs_past_their_retention(
    job_engine: Engine, job_settings: Settings
) -> None:
    settings = job_settings.model_copy(update={"job_log_days": 14, "job_dead_days": 90})
    factory = make_session_factory(job_engine)
    with unit_of_work(factory) as session:
        old = _job(session, "old", "succeeded", 20)
        old_cancelled = _job(session, "old-cancelled", "cancelled", 15)
        recent = _job(session, "recent", "succeeded", 13)
        recent_cancelled = _job(session, "recent-cancelled", "cancelled", 2)
        dead = _job(session, "dead", "dead", 60)  # a failure is kept longer
        old_dead = _job(session, "old-dead", "dead", 91)
        queued = _job(session, "queued", "queued", None)  # pending: never deleted
        running = _job(session, "running", "running", None, worker="elsewhere:1")
        # The chain's first step finished long ago; its next step is still queued.
        parent = _job(session, "parent", "succeeded", 30)
        child = _job(session, "child", "queued", None, key=f"then:test:parent:{TASK}")
        # A finished chain goes whole.
        done_parent = _job(session, "done-parent", "succeeded", 30)
        done_child = _job(
            session, "done-child", "succeeded", 29, key=f"then:test:done-parent:{TASK}"
        )
        # The schedule's last job: the schedules list names it.
        last = _job(session, "last", "succeeded", 40)
        session.add(
            JobSchedule(
                name="yearly-test",
                task=TASK,
                cron="0 0 1 1 *",
                next_run_at=utcnow() + timedelta(days=200),
                last_job_id=last,
            )
        )
        enqueue(session=session, task=PRUNE_TASK)

    worker = Worker(engine=job_engine, settings=settings, concurrency=1, poll_seconds=0.05)
    worker.run(until_empty=True)

    with Session(job_engine) as session:
        kept = set(session.scalars(select(Job.id).where(Job.task != PRUNE_TASK)))
        prune = session.scalars(select(Job).where(Job.task == PRUNE_TASK)).one()
    assert kept == {recent, recent_cancelled, dead, queued, running, parent, child, last}
    assert {old, old_cancelled, old_dead, done_parent, done_child}.isdisjoint(kept)
    assert prune.state == "succeeded"
    assert prune.result is not None
    assert prune.result["deleted"] == {"succeeded": 3, "cancelled": 1, "dead": 1}


def test_deletes_go_in_chunks_until_none_is_left(job_engine: Engine) -> None:
    factory = make_session_factory(job_engine)
    with unit_of_work(factory) as session:
        ids = [_job(session, f"old-{n}", "succeeded", 30) for n in range(7)]
        recent = _job(session, "recent", "succeeded", 1)
    cutoff = utcnow() - timedelta(days=14)
    # Chunks of 3: three transactions delete 3, 3 and 1; a fourth finds none.
    deleted = prune_jobs(factory, settled_before=cutoff, dead_before=cutoff, chunk=3)
    assert deleted == {"succeeded": 7, "cancelled": 0, "dead": 0}
    with Session(job_engine) as session:
        assert set(session.scalars(select(Job.id))) == {recent}
    assert len(ids) == 7
    # A second run (a retry after a crash) has nothing left to do
    again = prune_jobs(factory, settled_before=cutoff, dead_before=cutoff, chunk=3)
    assert again == {"succeeded": 0, "cancelled": 0, "dead": 0}


def test_the_pruning_is_scheduled_daily(job_settings: Settings) -> None:
    (pruning,) = [s for s in schedules(job_settings) if s.name == JOB_PRUNING]
    assert (pruning.task, pruning.cron, pruning.wanted) == (PRUNE_TASK, "45 4 * * *", None)
