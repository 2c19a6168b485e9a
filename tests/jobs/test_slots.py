"""A worker's slots on both databases: the slot kept for transactional work, and small
jobs claimed in batches (released, not lost, when the worker stops).

Handlers here block on events the test sets, so the order of starts is observed, never
timed; the waits below only bound how long a broken rule takes to fail the test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.jobs import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, JobContext, enqueue, task
from tenure.jobs.models import Job
from tenure.jobs.worker import Worker, start_in_thread

BULK = "test.slots.bulk"
URGENT = "test.slots.urgent"
QUICK = "test.slots.quick"
HELD = "test.slots.held"
WAIT_SECONDS = 60.0


class _Signals:
    """What the handlers report to the test, and the gate that holds them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[tuple[str, int]] = []
        self.finished: list[tuple[str, int]] = []
        self.release = threading.Event()

    def start(self, ctx: JobContext) -> None:
        with self.lock:
            self.started.append((ctx.task, ctx.job_id))

    def finish(self, ctx: JobContext) -> None:
        with self.lock:
            self.finished.append((ctx.task, ctx.job_id))

    def count(self, events: list[tuple[str, int]], name: str) -> int:
        with self.lock:
            return sum(1 for task_name, _ in events if task_name == name)


SIGNALS = _Signals()


def _held(ctx: JobContext) -> None:
    # Wait before writing anything: on SQLite the job's transaction (and the write lock)
    # begins with its first statement, so a waiting job blocks no other slot.
    SIGNALS.start(ctx)
    SIGNALS.release.wait(WAIT_SECONDS)
    SIGNALS.finish(ctx)


@task(BULK, priority=PRIORITY_BULK, timeout_seconds=120)
def bulk(ctx: JobContext) -> None:
    """A slow bulk job: holds until the test releases it."""
    _held(ctx)


@task(URGENT, priority=PRIORITY_TRANSACTIONAL, timeout_seconds=120)
def urgent(ctx: JobContext) -> None:
    """Transactional work: records that it started and finished."""
    SIGNALS.start(ctx)
    SIGNALS.finish(ctx)


@task(QUICK, timeout_seconds=120)
def quick(ctx: JobContext) -> None:
    """A small job."""
    SIGNALS.start(ctx)
    SIGNALS.finish(ctx)


@task(HELD, timeout_seconds=120)
def held(ctx: JobContext) -> None:
    """A default-priority job that holds until released."""
    _held(ctx)


@pytest.fixture(autouse=True)
def _signals() -> Iterator[None]:
    global SIGNALS
    SIGNALS = _Signals()
    yield
    SIGNALS.release.set()  # never leave a handler thread waiting


def _enqueue(engine: Engine, name: str, count: int = 1) -> list[int]:
    with Session(engine) as session:
        ids = [enqueue(session=session, task=name) for _ in range(count)]
        session.commit()
    return ids


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.02)


def _jobs(engine: Engine, ids: list[int]) -> list[Job]:
    with Session(engine) as session:
        return list(session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.id)))


def _stop(worker: Worker, thread: threading.Thread) -> None:
    SIGNALS.release.set()
    worker.stop()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    for slot in worker._slots:
        if slot.thread is not None:
            slot.thread.join(WAIT_SECONDS)


def test_transactional_work_starts_while_every_other_slot_runs_bulk_work(
    job_engine: Engine, job_settings: Settings
) -> None:
    # Given a queue full of slow bulk jobs, and a worker with two slots running one of them
    bulk_ids = _enqueue(job_engine, BULK, count=4)
    worker = Worker(engine=job_engine, settings=job_settings, concurrency=2, poll_seconds=0.02)
    thread = start_in_thread(worker)
    try:
        _wait_for(lambda: SIGNALS.count(SIGNALS.started, BULK) >= 1)
        # When a transactional job arrives
        (urgent_id,) = _enqueue(job_engine, URGENT)
        # Then it runs to completion while the bulk job still holds its slot
        _wait_for(lambda: SIGNALS.count(SIGNALS.finished, URGENT) == 1)
        assert SIGNALS.count(SIGNALS.finished, BULK) == 0
        # And the kept slot took no bulk job: one started, three still wait
        assert SIGNALS.count(SIGNALS.started, BULK) == 1
        states = [job.state for job in _jobs(job_engine, bulk_ids)]
        assert sorted(states) == ["queued", "queued", "queued", "running"]
        assert _jobs(job_engine, [urgent_id])[0].state == "succeeded"
    finally:
        _stop(worker, thread)


def test_small_jobs_are_claimed_in_batches_and_each_runs_once(
    job_engine: Engine, job_settings: Settings
) -> None:
    ids = _enqueue(job_engine, QUICK, count=12)
    worker = Worker(
        engine=job_engine,
        settings=job_settings,
        concurrency=1,
        poll_seconds=0.02,
        batch_size=5,
        short_job_seconds=WAIT_SECONDS,  # every job counts as small here
    )
    worker.run(until_empty=True)
    jobs = _jobs(job_engine, ids)
    assert [(j.state, j.attempts) for j in jobs] == [("succeeded", 1)] * 12
    with SIGNALS.lock:
        assert sorted(job_id for _, job_id in SIGNALS.started) == ids
    # The first job was claimed alone; the rest in batches of five, claimed together
    batches = sorted({j.started_at for j in jobs[1:]})
    assert len(batches) < len(jobs) - 1
    assert jobs[1].started_at == jobs[5].started_at


def test_a_batch_still_waiting_when_the_worker_stops_goes_back_to_the_queue(
    job_engine: Engine, job_settings: Settings
) -> None:
    # Given a small job, then a held one, then more small ones
    (first,) = _enqueue(job_engine, QUICK)
    (blocked,) = _enqueue(job_engine, HELD)
    rest = _enqueue(job_engine, QUICK, count=3)
    worker = Worker(
        engine=job_engine,
        settings=job_settings,
        concurrency=1,
        poll_seconds=0.02,
        grace_seconds=0.2,
        batch_size=10,
        short_job_seconds=WAIT_SECONDS,
        lease_seconds=3,  # renewed every second
    )
    thread = start_in_thread(worker)
    try:
        # When the small job's completion claimed the others as a batch and the held
        # one is running
        _wait_for(lambda: SIGNALS.count(SIGNALS.started, HELD) == 1)
        assert [j.state for j in _jobs(job_engine, rest)] == ["running"] * 3
        # The heartbeat renews the lease of the batch waiting behind the held job too
        claimed_until = _jobs(job_engine, rest)[0].lease_expires_at
        assert claimed_until is not None
        _wait_for(lambda: _jobs(job_engine, rest)[0].lease_expires_at > claimed_until)
        # And the worker stops while the held job is still running
        worker.stop()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive()
        # Then the held job and its batch are back in the queue, no attempt counted
        jobs = _jobs(job_engine, [blocked, *rest])
        assert [(j.state, j.attempts, j.lease_token) for j in jobs] == [("queued", 0, None)] * 4
        assert _jobs(job_engine, [first])[0].state == "succeeded"
    finally:
        _stop(worker, thread)
    # And the held job's late completion was refused: it is still queued
    assert _jobs(job_engine, [blocked])[0].state == "queued"
