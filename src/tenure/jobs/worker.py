"""The worker: claims due jobs, runs each in a thread, renews leases, enforces timeouts.

One loop per worker (the embedded one in ``tenure serve``, or ``tenure worker``):
reap expired leases, enqueue due schedules, claim as many jobs as there are free slots,
start each in a thread. Bulk jobs (priority >= PRIORITY_BULK) never take the last free
slot when the worker has more than one, so transactional work never waits behind them.

Stopping (SIGTERM, or the web server shutting down) stops claiming, waits up to
``grace_seconds`` for the running jobs and then releases the rest: they go back to the
queue without counting an attempt, and their late completion is refused by the lease
fence.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.db.session import make_session_factory
from tenure.db.types import utcnow
from tenure.jobs import runner
from tenure.jobs.models import PRIORITY_BULK, Job, JobSchedule, JobState
from tenure.jobs.registry import Schedule
from tenure.jobs.schedules import enqueue_due, sync_schedules

log = logging.getLogger("tenure.jobs")

#: Seconds between looks for expired leases: cheaper than every poll, and a dead worker's
#: job waits for its lease anyway.
REAP_EVERY_SECONDS = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10_000}"


@dataclass
class _Running:
    job: runner.Claimed
    thread: threading.Thread
    started: float
    bulk: bool


@dataclass
class Worker:
    engine: Engine
    settings: Settings
    concurrency: int = 2
    queues: tuple[str, ...] | None = None
    schedules: Iterable[Schedule] = ()
    name: str = field(default_factory=worker_name)
    lease_seconds: int | None = None
    poll_seconds: float | None = None
    grace_seconds: float = 30.0
    session_factory: sessionmaker[Session] | None = None

    def __post_init__(self) -> None:
        self.lease = self.lease_seconds or self.settings.jobs_lease_seconds
        self.poll = self.poll_seconds or self.settings.jobs_poll_seconds
        self.factory = self.session_factory or make_session_factory(self.engine)
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, _Running] = {}
        self._last_reap = 0.0
        self._last_heartbeat = time.monotonic()
        self.completed = 0
        self.failed = 0

    # The loop -------------------------------------------------------------------------

    def run(self, *, until_empty: bool = False) -> None:
        """Run until :meth:`stop` (or, with ``until_empty``, until nothing is due or running)."""
        self._sync_schedules()
        while not self.stopping.is_set():
            try:
                claimed = self.tick()
            except Exception:  # a lost connection must not kill the worker
                log.exception("job worker tick failed")
                claimed = 0
            if until_empty and claimed == 0 and not self._running and not self._anything_due():
                break
            if claimed == 0 or self._free_slots() == 0:
                self._wake.wait(self.poll if claimed == 0 else 0.05)
                self._wake.clear()
        self._shutdown()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def tick(self) -> int:
        """One round: housekeeping, then claim and start jobs for the free slots."""
        self._check_running()
        now = time.monotonic()
        if now - self._last_heartbeat >= self.lease / 3:
            self._heartbeat()
        if now - self._last_reap >= REAP_EVERY_SECONDS:
            self._last_reap = now
            if self._has_expired():
                runner.reap_expired(self.engine)
            if self._has_due_schedule():
                enqueue_due(self.engine)
        free = self._free_slots()
        if free == 0 or self.stopping.is_set():
            return 0
        bulk_running = sum(1 for r in self._running.values() if r.bulk)
        # Keep one slot for transactional work when there are several.
        bulk_allowed = self.concurrency == 1 or bulk_running < self.concurrency - 1
        jobs = runner.claim_batch(
            self.engine,
            worker=self.name,
            limit=free,
            lease_seconds=self.lease,
            queues=self.queues,
            below_priority=None if bulk_allowed else PRIORITY_BULK,
        )
        for job in jobs:
            self._start(job)
        return len(jobs)

    # Jobs -----------------------------------------------------------------------------

    def _start(self, job: runner.Claimed) -> None:
        bulk = self._priority_is_bulk(job)
        thread = threading.Thread(
            target=self._run_one, args=(job,), name=f"job-{job.id}", daemon=True
        )
        with self._lock:
            self._running[job.id] = _Running(job, thread, time.monotonic(), bulk)
        thread.start()

    def _priority_is_bulk(self, job: runner.Claimed) -> bool:
        from tenure.jobs.registry import get_task

        registered = get_task(job.task)
        return registered is not None and registered.priority >= PRIORITY_BULK

    def _run_one(self, job: runner.Claimed) -> None:
        try:
            runner.execute(
                job, engine=self.engine, settings=self.settings, session_factory=self.factory
            )
            self.completed += 1
        except runner.LeaseLost:
            log.warning("job %s (%s) lost its lease; its work was rolled back", job.id, job.task)
        except BaseException as error:
            self.failed += 1
            log.warning("job %s (%s) failed: %s", job.id, job.task, error)
            try:
                runner.record_failure(self.engine, job, error)
            except Exception:
                log.exception("could not record the failure of job %s", job.id)
        finally:
            with self._lock:
                self._running.pop(job.id, None)
            self._wake.set()

    def _check_running(self) -> None:
        """Fail the jobs past their timeout: the lease fence refuses their late commit."""
        now = time.monotonic()
        with self._lock:
            late = [r for r in self._running.values() if now - r.started > r.job.timeout_seconds]
            for r in late:
                self._running.pop(r.job.id, None)
        for r in late:
            log.warning("job %s (%s) timed out", r.job.id, r.job.task)
            self.failed += 1
            runner.record_failure(self.engine, r.job, f"timed out after {r.job.timeout_seconds} s")

    def _heartbeat(self) -> None:
        self._last_heartbeat = time.monotonic()
        with self._lock:
            jobs = [r.job for r in self._running.values()]
        try:
            runner.renew_leases(self.engine, jobs, self.lease)
        except Exception:
            log.exception("could not renew job leases")

    def _free_slots(self) -> int:
        with self._lock:
            return max(0, self.concurrency - len(self._running))

    # Cheap reads before taking SQLite's write lock ------------------------------------

    def _has_expired(self) -> bool:
        with self.engine.connect() as connection:
            return bool(
                connection.scalar(
                    select(
                        exists().where(
                            Job.state == JobState.running.value, Job.lease_expires_at < utcnow()
                        )
                    )
                )
            )

    def _has_due_schedule(self) -> bool:
        with self.engine.connect() as connection:
            return bool(
                connection.scalar(
                    select(
                        exists().where(
                            JobSchedule.enabled.is_(True), JobSchedule.next_run_at <= utcnow()
                        )
                    )
                )
            )

    def _anything_due(self) -> bool:
        with self.engine.connect() as connection:
            query = exists().where(
                Job.state.in_([JobState.queued.value, JobState.running.value]),
                Job.run_at <= utcnow(),
            )
            return bool(connection.scalar(select(query)))

    def _sync_schedules(self) -> None:
        schedules = list(self.schedules)
        if not schedules:
            return
        with Session(bind=runner.immediate(self.engine)) as session:
            sync_schedules(session, schedules)
            session.commit()
        if self._has_due_schedule():
            enqueue_due(self.engine)

    # Stopping -------------------------------------------------------------------------

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    return
            time.sleep(0.1)
        with self._lock:
            left = [r.job for r in self._running.values()]
            self._running.clear()
        released = runner.release(self.engine, left)
        log.warning("released %d unfinished job(s) back to the queue", released)


def start_in_thread(worker: Worker) -> threading.Thread:
    """The embedded worker: the loop in a daemon thread of the web server's process."""
    thread = threading.Thread(target=worker.run, name="tenure-jobs", daemon=True)
    thread.start()
    return thread
