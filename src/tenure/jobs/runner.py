"""Claiming, running, completing and failing jobs: the runner's SQL, one code path.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint
rows without waiting on each other. SQLite has one writer at a time: the claim runs in a
``BEGIN IMMEDIATE`` transaction, so claimers queue on the write lock (busy_timeout) and
each sees the rows the previous one claimed. The same statement serves both, with the
locking clause on PostgreSQL only (``jobs.claims``, driver SQL: it runs once per job).
"""

from __future__ import annotations

import json
import random
import time
import traceback as traceback_module
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from tenure.config import Settings
from tenure.db.types import utcnow
from tenure.jobs.claims import claim_rows, complete_row
from tenure.jobs.enqueue import enqueue
from tenure.jobs.models import Job, JobState
from tenure.jobs.registry import JobContext, get_task

#: Exponential backoff between attempts: base * 2^(attempt-1), capped, with +-50% jitter
#: so that jobs failing together (a database restart) do not retry in lockstep.
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
TRACEBACK_LIMIT = 20_000


class LeaseLost(Exception):
    """The job's lease expired or it was cancelled: another worker owns it now."""


@dataclass(frozen=True)
class Claimed:
    id: int
    task: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    timeout_seconds: int
    idempotency_key: str
    then: list[str]
    run_at: datetime
    lease_token: str


@dataclass(frozen=True)
class NextClaim:
    """What a worker claims next, in the transaction that completes its current job."""

    worker: str
    lease_seconds: int
    queues: tuple[str, ...] | None = None
    below_priority: int | None = None
    #: More than one claims a batch (the worker holds the rest under the same lease),
    #: but only after a job that ran under ``batch_below_seconds``: small jobs.
    limit: int = 1
    batch_below_seconds: float = 0.0


@dataclass(frozen=True)
class Executed:
    result: dict[str, Any] | None
    next_jobs: list[Claimed]


def immediate(engine: Engine) -> Engine:
    """The engine whose transactions take SQLite's write lock at BEGIN (a no-op on PG)."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return base * (0.5 + (rng or random).random())


def claim(
    connection: Connection,
    *,
    worker: str,
    limit: int,
    lease_seconds: int,
    queues: tuple[str, ...] | None = None,
    below_priority: int | None = None,
    now: datetime | None = None,
) -> list[Claimed]:
    """Mark up to ``limit`` due jobs running under a new lease; the caller commits."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    rows = claim_rows(
        connection,
        token=token,
        worker=worker,
        now=now,
        expires=now + timedelta(seconds=lease_seconds),
        limit=limit,
        queues=queues,
        below_priority=below_priority,
    )
    return [
        Claimed(
            id=r.id,
            task=r.task,
            payload=r.payload,
            attempt=r.attempts,
            max_attempts=r.max_attempts,
            timeout_seconds=r.timeout_seconds,
            idempotency_key=r.idempotency_key,
            then=r.then,
            run_at=r.run_at,
            lease_token=token,
        )
        for r in rows
    ]


def claim_batch(
    engine: Engine,
    *,
    worker: str,
    limit: int,
    lease_seconds: int,
    queues: tuple[str, ...] | None = None,
    below_priority: int | None = None,
) -> list[Claimed]:
    with immediate(engine).begin() as connection:
        return claim(
            connection,
            worker=worker,
            limit=limit,
            lease_seconds=lease_seconds,
            queues=queues,
            below_priority=below_priority,
        )


def _fenced(job: Claimed) -> Any:
    return and_(
        Job.id == job.id,
        Job.lease_token == job.lease_token,
        Job.state == JobState.running.value,
    )


def job_context(
    job: Claimed, session: Session, factory: sessionmaker[Session], settings: Settings
) -> JobContext:
    """What the handler of ``job`` gets: its claimed row, the job's session and the rest."""
    return JobContext(
        job_id=job.id,
        task=job.task,
        payload=job.payload,
        attempt=job.attempt,
        idempotency_key=job.idempotency_key,
        session=session,
        session_factory=factory,
        settings=settings,
        scheduled_for=job.run_at,
    )


def execute(
    job: Claimed,
    *,
    engine: Engine,
    settings: Settings,
    session_factory: sessionmaker[Session] | None = None,
    claim_next: NextClaim | None = None,
    connection: Connection | None = None,
) -> Executed:
    """Run ``job``'s handler and complete it in one transaction, fenced by its lease.

    Raises what the handler raised (the caller records the failure) or :class:`LeaseLost`
    when the lease went to another worker meanwhile: then nothing the handler wrote
    through ``ctx.session`` is committed. With ``claim_next``, the same transaction also
    claims the worker's next job (one transaction a job fewer: on SQLite the claim's
    BEGIN IMMEDIATE and COMMIT cost as much as the job's own statements). A worker slot
    passes the ``connection`` it keeps (from :func:`immediate`), saving a pool checkout
    and checkin per job.
    """
    registered = get_task(job.task)
    if registered is None:
        raise LookupError(f"no handler registered for task {job.task!r}")
    factory = session_factory or sessionmaker(bind=engine, expire_on_commit=False)
    bind: Engine | Connection = connection if connection is not None else immediate(engine)
    with Session(bind=bind, expire_on_commit=False) as session:
        context = job_context(job, session, factory, settings)
        started = time.monotonic()
        try:
            result = json_ready(registered.handler(context))
            check_timeout(job, started)
            following = complete_and_claim(session, [(job, result)], claim_next, started)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return Executed(result=result, next_jobs=following)


def check_timeout(job: Claimed, started: float) -> None:
    if time.monotonic() - started > job.timeout_seconds:
        # The watchdog may not have caught it (SQLite's lock held it up): a job past its
        # timeout never commits.
        raise TimeoutError(f"timed out after {job.timeout_seconds} s")


def complete_and_claim(
    session: Session,
    done: list[tuple[Claimed, dict[str, Any] | None]],
    claim_next: NextClaim | None,
    started: float,
    count: int = 1,
) -> list[Claimed]:
    """Mark ``done`` succeeded (fenced), enqueue their ``then`` and claim what follows."""
    finished = utcnow()
    for job, result in done:
        completed = complete_row(
            session.connection(),
            job_id=job.id,
            token=job.lease_token,
            finished=finished,
            result=result,
        )
        if not completed:
            raise LeaseLost(f"job {job.id} lost its lease before completing")
        if job.then:
            enqueue(
                session=session,
                task=job.then[0],
                then=job.then[1:],
                idempotency_key=f"then:{job.idempotency_key}:{job.then[0]}",
            )
    if claim_next is None:
        return []
    # Per job of the batch: a batch of small jobs is small.
    small = (time.monotonic() - started) / count < claim_next.batch_below_seconds
    return claim(
        session.connection(),
        worker=claim_next.worker,
        limit=claim_next.limit if small else 1,
        lease_seconds=claim_next.lease_seconds,
        queues=claim_next.queues,
        below_priority=claim_next.below_priority,
    )


def json_ready(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The handler's summary as JSON (dates as ISO text) for the result column."""
    if result is None:
        return None
    ready: dict[str, Any] = json.loads(json.dumps(result, default=str))
    return ready


def record_failure(
    engine: Engine, job: Claimed, error: BaseException | str, *, now: datetime | None = None
) -> str | None:
    """Put a failed job back in the queue after a backoff, or dead-letter it.

    Returns the job's new state, or None if it had lost its lease (another worker's now).
    """
    now = now or utcnow()
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        trace = "".join(traceback_module.format_exception(error))[-TRACEBACK_LIMIT:]
    else:
        message, trace = error, None
    with immediate(engine).begin() as connection:
        row = connection.execute(
            select(Job.attempts, Job.max_attempts, Job.unique_key)
            .where(_fenced(job))
            .with_for_update()
        ).first()
        if row is None:
            return None
        values: dict[str, Any] = {
            "error": message[:2000],
            "traceback": trace,
            "lease_token": None,
            "lease_expires_at": None,
        }
        if row.attempts >= row.max_attempts:
            values |= {"state": JobState.dead.value, "finished_at": now}
        elif _superseded(connection, job.id, row.unique_key):
            values |= {"state": JobState.cancelled.value, "finished_at": now}
            values["error"] = f"{message[:1900]} (not retried: the same work is queued again)"
        else:
            delay = backoff_seconds(row.attempts)
            values |= {"state": JobState.queued.value, "run_at": now + timedelta(seconds=delay)}
        connection.execute(update(Job).where(Job.id == job.id).values(**values))
        return str(values["state"])


def _superseded(connection: Connection, job_id: int, unique_key: str | None) -> bool:
    if unique_key is None:
        return False
    other = aliased(Job)
    return bool(
        connection.scalar(
            select(
                exists().where(
                    other.unique_key == unique_key,
                    other.state == JobState.queued.value,
                    other.id != job_id,
                )
            )
        )
    )


def release(engine: Engine, jobs: list[Claimed]) -> int:
    """Give unfinished jobs back on shutdown: queued again, the attempt not counted."""
    released = 0
    with immediate(engine).begin() as connection:
        for job in jobs:
            row = connection.execute(
                select(Job.unique_key).where(_fenced(job)).with_for_update()
            ).first()
            if row is None:
                continue
            state = JobState.queued.value
            if _superseded(connection, job.id, row.unique_key):
                state = JobState.cancelled.value
            result = connection.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(
                    state=state,
                    attempts=Job.attempts - 1,
                    lease_token=None,
                    lease_expires_at=None,
                    worker=None,
                )
            )
            released += result.rowcount
    return released


def renew_leases(engine: Engine, jobs: list[Claimed], lease_seconds: int) -> int:
    """Extend the leases of jobs this worker still runs (its heartbeat)."""
    if not jobs:
        return 0
    expires = utcnow() + timedelta(seconds=lease_seconds)
    renewed = 0
    with engine.begin() as connection:
        for job in jobs:
            result = connection.execute(
                update(Job).where(_fenced(job)).values(lease_expires_at=expires)
            )
            renewed += result.rowcount
    return renewed


def reap_expired(engine: Engine, *, now: datetime | None = None) -> int:
    """Requeue (or dead-letter) running jobs whose lease expired: their worker died."""
    now = now or utcnow()
    with immediate(engine).begin() as connection:
        expired = connection.execute(
            select(Job.id, Job.attempts, Job.max_attempts, Job.unique_key)
            .where(Job.state == JobState.running.value, Job.lease_expires_at < now)
            .with_for_update(skip_locked=True)
        ).all()
        for row in expired:
            message = "the worker's lease expired (it stopped or lost the database)"
            values: dict[str, Any] = {
                "error": message,
                "traceback": None,
                "lease_token": None,
                "lease_expires_at": None,
            }
            if row.attempts >= row.max_attempts:
                values |= {"state": JobState.dead.value, "finished_at": now}
            elif _superseded(connection, row.id, row.unique_key):
                values |= {"state": JobState.cancelled.value, "finished_at": now}
            else:
                values |= {"state": JobState.queued.value, "run_at": now}
            connection.execute(update(Job).where(Job.id == row.id).values(**values))
    return len(expired)
