"""The worker: slot threads claim and run jobs; the main loop keeps house.

Each of ``concurrency`` slots is a thread that claims one due job, runs it and claims the
next, so a job costs no hand-over between threads (measured: starting a thread per job
and waking the loop cost ~6 ms a job under load, more than the job's two transactions).
Slot 0 never takes a bulk job (priority >= PRIORITY_BULK) when there are several slots,
so transactional work never waits behind a nightly refresh.

Small jobs are claimed in batches: when a job ran under ``SHORT_JOB_SECONDS``, its
completion claims up to ``CLAIM_BATCH`` jobs for the slot (one claim statement for
several jobs: on SQLite the claim was a fifth of the runner's time per job). The batch
shares one lease, which the heartbeat renews, and is released on shutdown or when the
slot's job times out. The slot kept for transactional work never batches, so a job it
could run never waits behind jobs it holds.

The main loop renews the leases of running jobs (every third of the lease), fails jobs
past their timeout (a fresh thread takes the slot over; the lease fence refuses the old
one's late commit), requeues jobs whose worker died (expired leases) and enqueues due
schedules.

Stopping (SIGTERM, or the web server shutting down) stops claiming, waits up to
``grace_seconds`` for the running jobs and then releases the rest: they go back to the
queue without counting an attempt, and their late completion is refused by the fence.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, exists, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.db.session import make_session_factory
from tenure.db.types import utcnow
from tenure.jobs import runner
from tenure.jobs.batches import execute_batch
from tenure.jobs.models import PRIORITY_BULK, Job, JobSchedule, JobState
from tenure.jobs.registry import Schedule, get_task, largest_batch
from tenure.jobs.schedules import enqueue_due, sync_schedules

log = logging.getLogger("tenure.jobs")

#: Seconds between looks for expired leases and due schedules: a dead worker's job
#: waits for its lease anyway, and cron has minute resolution.
HOUSEKEEPING_SECONDS = 5.0
#: A slot claims up to this many jobs at once after a job shorter than SHORT_JOB_SECONDS.
CLAIM_BATCH = 8
SHORT_JOB_SECONDS = 0.05


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Slot:
    index: int
    thread: threading.Thread | None = None
    job: runner.Claimed | None = None
    # Run together with ``job`` by a batch task's handler (same lease, same transaction).
    companions: list[runner.Claimed] = field(default_factory=list)
    # Claimed in the same batch as ``job``, not started yet (same lease).
    waiting: list[runner.Claimed] = field(default_factory=list)
    started: float = 0.0
    idle: bool = False
    retired: bool = False
    connection: Connection | None = None


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
    batch_size: int = CLAIM_BATCH
    short_job_seconds: float = SHORT_JOB_SECONDS

    def __post_init__(self) -> None:
        self.lease = self.lease_seconds or self.settings.jobs_lease_seconds
        self.poll = self.poll_seconds or self.settings.jobs_poll_seconds
        self.factory = self.session_factory or make_session_factory(self.engine)
        # Read at every tick (their ``wanted`` checks), not only synced at the start.
        self.schedules = tuple(self.schedules)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self.completed = 0
        self.failed = 0

    # The main loop --------------------------------------------------------------------

    def run(self, *, until_empty: bool = False) -> None:
        """Run until :meth:`stop` (or, with ``until_empty``, until nothing is due or running)."""
        self._sync_schedules()
        self._slots = [_Slot(i) for i in range(self.concurrency)]
        for slot in self._slots:
            self._start_slot(slot)
        last_heartbeat = last_housekeeping = time.monotonic()
        tick = min(self.poll, 1.0)
        while not self.stopping.wait(tick):
            now = time.monotonic()
            try:
                self._check_timeouts()
                if now - last_heartbeat >= self.lease / 3:
                    last_heartbeat = now
                    self._heartbeat()
                if now - last_housekeeping >= HOUSEKEEPING_SECONDS:
                    last_housekeeping = now
                    self.housekeeping()
                if until_empty and self._all_idle() and not self._anything_due():
                    break
            except Exception:  # a lost connection must not kill the worker
                log.exception("job worker housekeeping failed")
        self.stopping.set()
        self._shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def housekeeping(self) -> None:
        """Requeue jobs of dead workers; enqueue due schedules (cheap reads first)."""
        if self._has_expired():
            runner.reap_expired(self.engine)
        if self._has_due_schedule():
            enqueue_due(self.engine, schedules=self.schedules)

    # Slots ----------------------------------------------------------------------------

    def _start_slot(self, slot: _Slot) -> None:
        slot.thread = threading.Thread(
            target=self._slot_loop, args=(slot,), name=f"job-slot-{slot.index}", daemon=True
        )
        slot.thread.start()

    def _slot_loop(self, slot: _Slot) -> None:
        # Slot 0 keeps room for transactional work when there are several slots.
        kept = slot.index == 0 and self.concurrency > 1
        below = PRIORITY_BULK if kept else None
        following = runner.NextClaim(
            self.name,
            self.lease,
            self.queues,
            below,
            limit=1 if kept else max(self.batch_size, largest_batch()),
            batch_below_seconds=self.short_job_seconds,
        )
        self._reconnect(slot)
        while not self.stopping.is_set() and not slot.retired:
            if not slot.waiting:
                jobs: list[runner.Claimed] = []
                try:
                    # An idle slot reads before it claims: on SQLite a claim takes the lock.
                    if self._due_exists(below):
                        jobs = runner.claim_batch(
                            self.engine,
                            worker=self.name,
                            limit=1,
                            lease_seconds=self.lease,
                            queues=self.queues,
                            below_priority=below,
                        )
                except Exception:
                    log.exception("claiming a job failed")
                if not jobs:
                    slot.idle = True
                    self.stopping.wait(self.poll)
                    continue
                with self._lock:
                    slot.waiting.extend(jobs)
            with self._lock:
                if not slot.waiting:  # given back meanwhile (shutdown)
                    continue
                job = slot.waiting.pop(0)
                companions = [] if kept else self._companions(job, slot.waiting)
                slot.idle = False
                slot.job, slot.companions, slot.started = job, companions, time.monotonic()
            # Claim the next job(s) with this completion, unless the batch has more.
            claim_next = None
            if not self.stopping.is_set() and not slot.waiting:
                claim_next = following
            claimed = self._run_one(slot, [job, *companions], claim_next)
            with self._lock:
                slot.waiting.extend(claimed)
                if slot.job is job:
                    slot.job, slot.companions = None, []
        with self._lock:
            unstarted, slot.waiting = slot.waiting, []
        try:
            if slot.connection is not None:
                slot.connection.close()
            if unstarted:  # claimed with a completion, never started: give them back
                runner.release(self.engine, unstarted)
        except Exception:  # a retired slot may outlive its database (its job timed out)
            log.exception("job slot %s could not clean up", slot.index)

    def _reconnect(self, slot: _Slot) -> None:
        try:
            if slot.connection is not None:
                slot.connection.close()
            slot.connection = runner.immediate(self.engine).connect()
        except Exception:
            log.exception("job slot %s could not connect", slot.index)
            slot.connection = None

    @staticmethod
    def _companions(job: runner.Claimed, waiting: list[runner.Claimed]) -> list[runner.Claimed]:
        """The waiting jobs of ``job``'s task that its batch handler takes with it."""
        registered = get_task(job.task)
        if registered is None or registered.batch_handler is None:
            return []
        taken = [j for j in waiting if j.task == job.task][: registered.batch_size - 1]
        for companion in taken:
            waiting.remove(companion)
        return taken

    def _run_one(
        self, slot: _Slot, jobs: list[runner.Claimed], following: runner.NextClaim | None
    ) -> list[runner.Claimed]:
        """Run a job (or a batch task's jobs together); returns the next jobs claimed in
        its completion transaction."""
        job = jobs[0]
        registered = get_task(job.task)
        try:
            if registered is not None and registered.batch_handler is not None:
                batch = execute_batch(
                    jobs,
                    engine=self.engine,
                    settings=self.settings,
                    session_factory=self.factory,
                    claim_next=following,
                    connection=slot.connection,
                )
                self.completed += len(batch.results)
                for failed, error in batch.failures:
                    self._fail(failed, error)
                return batch.next_jobs
            executed = runner.execute(
                job,
                engine=self.engine,
                settings=self.settings,
                session_factory=self.factory,
                claim_next=following,
                connection=slot.connection,
            )
            self.completed += 1
            return executed.next_jobs
        except runner.LeaseLost:
            log.warning("job %s (%s) lost its lease; its work was rolled back", job.id, job.task)
        except BaseException as error:  # the job failed; the worker goes on
            # The slot's connection may be broken (a lost server): start from a new one.
            self._reconnect(slot)
            for failed in jobs:
                self._fail(failed, error)
        return []

    def _fail(self, job: runner.Claimed, error: BaseException) -> None:
        self.failed += 1
        log.warning("job %s (%s) failed: %s", job.id, job.task, error)
        try:
            runner.record_failure(self.engine, job, error)
        except Exception:
            log.exception("could not record the failure of job %s", job.id)

    def _check_timeouts(self) -> None:
        """Fail the jobs past their timeout and give their slot to a fresh thread."""
        now = time.monotonic()
        late: list[runner.Claimed] = []
        unstarted: list[runner.Claimed] = []
        with self._lock:
            for index, slot in enumerate(self._slots):
                job = slot.job
                if job is not None and now - slot.started > job.timeout_seconds:
                    slot.retired = True
                    late += [job, *slot.companions]
                    unstarted += slot.waiting
                    slot.waiting = []
                    self._slots[index] = _Slot(index)
                    self._start_slot(self._slots[index])
        if unstarted:  # the rest of the late job's batch goes back to the queue
            runner.release(self.engine, unstarted)
        for job in late:
            log.warning("job %s (%s) timed out", job.id, job.task)
            self.failed += 1
            runner.record_failure(self.engine, job, f"timed out after {job.timeout_seconds} s")

    def _running(self) -> list[runner.Claimed]:
        with self._lock:
            return [j for s in self._slots if s.job is not None for j in [s.job, *s.companions]]

    def _leased(self) -> list[runner.Claimed]:
        """Running jobs and the batched ones waiting behind them: all under lease."""
        with self._lock:
            return [
                j
                for s in self._slots
                for j in ([s.job, *s.companions] if s.job else []) + s.waiting
            ]

    def _all_idle(self) -> bool:
        with self._lock:
            return all(s.idle and s.job is None for s in self._slots)

    def _heartbeat(self) -> None:
        try:
            runner.renew_leases(self.engine, self._leased(), self.lease)
        except Exception:
            log.exception("could not renew job leases")

    # Cheap reads before taking SQLite's write lock ------------------------------------

    def _due_exists(self, below_priority: int | None) -> bool:
        query = exists().where(Job.state == JobState.queued.value, Job.run_at <= utcnow())
        if below_priority is not None:
            query = query.where(Job.priority < below_priority)
        if self.queues:
            query = query.where(Job.queue.in_(self.queues))
        with self.engine.connect() as connection:
            return bool(connection.scalar(select(query)))

    def _has_expired(self) -> bool:
        query = exists().where(Job.state == JobState.running.value, Job.lease_expires_at < utcnow())
        with self.engine.connect() as connection:
            return bool(connection.scalar(select(query)))

    def _has_due_schedule(self) -> bool:
        query = exists().where(JobSchedule.enabled.is_(True), JobSchedule.next_run_at <= utcnow())
        with self.engine.connect() as connection:
            return bool(connection.scalar(select(query)))

    def _anything_due(self) -> bool:
        query = exists().where(
            Job.state.in_([JobState.queued.value, JobState.running.value]),
            Job.run_at <= utcnow(),
        )
        with self.engine.connect() as connection:
            return bool(connection.scalar(select(query)))

    def _sync_schedules(self) -> None:
        schedules = list(self.schedules)
        if schedules:
            with Session(bind=runner.immediate(self.engine)) as session:
                sync_schedules(session, schedules)
                session.commit()
        self.housekeeping()

    # Stopping -------------------------------------------------------------------------

    def _shutdown(self) -> None:
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline and self._running():
            time.sleep(0.05)
        left = self._leased()
        with self._lock:
            for slot in self._slots:
                slot.job, slot.companions = None, []
                slot.waiting = []
        if left:
            released = runner.release(self.engine, left)
            log.warning("released %d unfinished job(s) back to the queue", released)


def start_in_thread(worker: Worker) -> threading.Thread:
    """The embedded worker: the loop in a daemon thread of the web server's process."""
    thread = threading.Thread(target=worker.run, name="tenure-jobs", daemon=True)
    thread.start()
    return thread
