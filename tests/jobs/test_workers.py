"""Worker processes: a kill -9 in the middle of a job, and several workers draining one
queue without losing or repeating a job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text

from tenure.db.types import utcnow
from tenure.jobs.models import Job, JobState
from tests.jobs.handlers import STARTS_DDL

RUN_WORKER = Path(__file__).with_name("run_worker.py")
TASK = "test.write_effect"


def _start_worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(RUN_WORKER), url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _finish(proc: subprocess.Popen[bytes], *, timeout: float = 600) -> str:
    """Wait for a worker (killing it after ``timeout``); returns its log."""
    try:
        _, errors = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, errors = proc.communicate()
    return errors.decode(errors="replace")


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _job_row(engine: Engine, job_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(
            select(Job.state, Job.attempts, Job.worker).where(Job.id == job_id)
        ).one()


def _insert_jobs(engine: Engine, count: int, task: str = TASK) -> None:
    now = utcnow()
    rows = [
        {
            "task": task,
            "queue": "default",
            "priority": 50,
            "payload": {"value": str(i)},
            "state": JobState.queued.value,
            "run_at": now,
            "attempts": 0,
            "max_attempts": 3,
            "timeout_seconds": 120,
            "idempotency_key": f"drain:{i}",
            "then": [],
            "created_at": now,
        }
        for i in range(count)
    ]
    with engine.begin() as connection:
        for start in range(0, count, 2_000):
            connection.execute(insert(Job), rows[start : start + 2_000])


def test_a_job_killed_mid_run_is_retried_after_its_lease_and_writes_once(
    job_engine: Engine, fresh_database_url: str
) -> None:
    # Given a job that sleeps in its first attempt after writing (uncommitted) its effect
    _insert_jobs(job_engine, 1)
    with job_engine.begin() as connection:
        job_id = connection.scalar(select(Job.id))
        connection.execute(
            Job.__table__.update()
            .where(Job.id == job_id)
            .values(payload={"sleep_on": 1, "sleep": 60})
        )
    first = _start_worker(fresh_database_url, "--lease", "2")
    try:
        _wait_for(lambda: _job_row(job_engine, job_id).state == "running", 60, "the claim")
        time.sleep(0.5)  # inside the handler, its row written but not committed
        # When the worker is killed -9
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        _finish(first)
    assert _job_row(job_engine, job_id).attempts == 1
    # Then another worker picks the job up once the lease expires, and it runs to the end
    second = _start_worker(fresh_database_url, "--lease", "2", "--until-empty")
    try:
        _wait_for(lambda: _job_row(job_engine, job_id).state == "succeeded", 60, "the retry")
    finally:
        second.send_signal(signal.SIGTERM)
        _finish(second, timeout=30)
    row = _job_row(job_engine, job_id)
    assert (row.state, row.attempts) == ("succeeded", 2)
    with job_engine.connect() as connection:
        effects = connection.execute(text("SELECT attempt FROM job_effects")).scalars().all()
    assert effects == [2]  # the killed attempt's write never committed; the retry's did, once


def test_sigterm_releases_a_job_still_running_after_the_grace_period(
    job_engine: Engine, fresh_database_url: str
) -> None:
    _insert_jobs(job_engine, 1)
    with job_engine.begin() as connection:
        job_id = connection.scalar(select(Job.id))
        connection.execute(
            Job.__table__.update()
            .where(Job.id == job_id)
            .values(payload={"sleep_on": 1, "sleep": 60, "sleep_first": True})
        )
    worker = _start_worker(fresh_database_url, "--lease", "30", "--grace", "1")
    try:
        _wait_for(lambda: _job_row(job_engine, job_id).state == "running", 60, "the claim")
        # When the worker gets SIGTERM and the job outlives the grace period
        worker.send_signal(signal.SIGTERM)
        log = _finish(worker, timeout=60)
    finally:
        worker.kill()
    # Then the job is back in the queue, the attempt not counted, nothing written
    assert worker.returncode == 0, log
    row = _job_row(job_engine, job_id)
    assert (row.state, row.attempts, row.worker) == ("queued", 0, None)
    with job_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM job_effects")) == 0


def _drain_with_workers(url: str, *, workers: int, concurrency: int) -> None:
    procs = [
        _start_worker(url, "--concurrency", str(concurrency), "--until-empty", "--lease", "30")
        for _ in range(workers)
    ]
    for proc in procs:
        log = _finish(proc)
        assert proc.returncode == 0, log


def _assert_each_ran_once(engine: Engine, jobs: int) -> dict[str, int]:
    with engine.connect() as connection:
        states = dict(connection.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        attempts = connection.scalar(select(func.max(Job.attempts)))
        effects = connection.execute(
            text("SELECT count(*), count(DISTINCT job_id) FROM job_effects")
        ).one()
        workers = dict(
            connection.execute(select(Job.worker, func.count()).group_by(Job.worker)).all()
        )
    assert states == {"succeeded": jobs}
    assert attempts == 1  # no job was claimed twice
    assert tuple(effects) == (jobs, jobs)  # none lost, none repeated
    return workers


def test_four_workers_drain_ten_thousand_jobs_none_lost_or_repeated(
    job_engine: Engine, fresh_database_url: str
) -> None:
    _insert_jobs(job_engine, 10_000)
    _drain_with_workers(fresh_database_url, workers=4, concurrency=2)
    by_worker = _assert_each_ran_once(job_engine, 10_000)
    assert len(by_worker) >= 2  # the work was shared between processes


def test_two_postgres_workers_never_run_one_job_at_once(
    backend: str, job_engine: Engine, fresh_database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED claims are PostgreSQL's; SQLite has one claimer at a time")
    # Given jobs that log their start outside their own transaction (a second run would show)
    with job_engine.begin() as connection:
        connection.execute(text(STARTS_DDL))
    _insert_jobs(job_engine, 1_000, task="test.log_start")
    # When two workers of four threads each drain them
    _drain_with_workers(fresh_database_url, workers=2, concurrency=4)
    # Then every job started exactly once
    by_worker = _assert_each_ran_once(job_engine, 1_000)
    assert len(by_worker) == 2
    with job_engine.connect() as connection:
        starts = connection.execute(
            text("SELECT count(*), count(DISTINCT job_id) FROM job_starts")
        ).one()
    assert tuple(starts) == (1_000, 1_000)
