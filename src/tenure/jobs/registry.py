"""Task registration: capabilities register handlers; the worker looks them up by name.

``jobs`` is infrastructure: it imports no capability. Each capability registers its
handlers in its own ``tasks.py`` with :func:`task`, and the composition module
``tenure.all_tasks`` imports every one of them for the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.jobs.models import PRIORITY_DEFAULT


@dataclass
class JobContext:
    """What a handler gets.

    ``session`` is the job's own transaction: what the handler writes there commits
    together with the job's completion, or not at all (exactly once). Work committed
    through ``session_factory`` in transactions of its own happens at least once and
    must be idempotent (a recomputation, an upsert).
    """

    job_id: int
    task: str
    payload: dict[str, Any]
    attempt: int
    idempotency_key: str
    session: Session
    session_factory: sessionmaker[Session]
    settings: Settings
    scheduled_for: datetime


Handler = Callable[[JobContext], dict[str, Any] | None]
#: What a batch handler says of each of its jobs, in order: a result (the job succeeded)
#: or the exception that failed it (retried with backoff like a raising handler).
Outcome = dict[str, Any] | None | BaseException
#: Several jobs of one task at once, sharing ``contexts[0].session`` (one transaction
#: completes them all): for small jobs whose per-transaction cost dominates (an email).
BatchHandler = Callable[[list[JobContext]], list[Outcome]]


@dataclass(frozen=True)
class Task:
    name: str
    handler: Handler
    queue: str = "default"
    priority: int = PRIORITY_DEFAULT
    max_attempts: int = 5
    timeout_seconds: int = 600
    description: str = ""
    batch_handler: BatchHandler | None = None
    #: Most jobs of this task handed to ``batch_handler`` at once.
    batch_size: int = 1


TASKS: dict[str, Task] = {}


def task(
    name: str,
    *,
    queue: str = "default",
    priority: int = PRIORITY_DEFAULT,
    max_attempts: int = 5,
    timeout_seconds: int = 600,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``name``."""

    def register(handler: Handler) -> Handler:
        TASKS[name] = Task(
            name=name,
            handler=handler,
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            description=(handler.__doc__ or "").strip().split("\n")[0],
        )
        return handler

    return register


def batch_task(
    name: str,
    *,
    batch_size: int,
    queue: str = "default",
    priority: int = PRIORITY_DEFAULT,
    max_attempts: int = 5,
    timeout_seconds: int = 600,
) -> Callable[[BatchHandler], BatchHandler]:
    """Register the decorated function as the batch handler of ``name``.

    The worker hands it up to ``batch_size`` claimed jobs of the task at once, all with
    the same ``session``; it returns one outcome per job, in order. What it writes
    through that session commits with the completion of the jobs that succeeded (the
    failed ones are retried afterwards, so their writes must be fit to commit: a retry's
    reason, not a half-done effect). A batch must fit in one job's ``timeout_seconds``.
    """

    def register(handler: BatchHandler) -> BatchHandler:
        TASKS[name] = Task(
            name=name,
            handler=_one_of(handler),
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            description=(handler.__doc__ or "").strip().split("\n")[0],
            batch_handler=handler,
            batch_size=batch_size,
        )
        return handler

    return register


def _one_of(handler: BatchHandler) -> Handler:
    """A batch handler as a plain one, for a job run alone."""

    def run_one(context: JobContext) -> dict[str, Any] | None:
        [outcome] = handler([context])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return run_one


def largest_batch() -> int:
    """The largest ``batch_size`` of the registered tasks (1 with none batched)."""
    return max((t.batch_size for t in TASKS.values()), default=1)


def get_task(name: str) -> Task | None:
    return TASKS.get(name)


_registry_complete = False


def mark_registry_complete() -> None:
    """Say every capability's handlers are registered (``tenure.all_tasks`` does, once
    it has imported them): from then on :func:`~tenure.jobs.enqueue.enqueue` refuses a
    task name with no handler, which would otherwise sit in the queue and die on its
    first run. Before (a script that imports one capability only), names are trusted."""
    global _registry_complete
    _registry_complete = True


def is_registry_complete() -> bool:
    return _registry_complete


#: Asked when a schedule is due, in the transaction that would enqueue its job.
Wanted = Callable[[Session], bool]


@dataclass(frozen=True)
class Schedule:
    """A cron schedule declared in code; workers copy it to ``job_schedules``.

    ``wanted``, when given, says whether the job has anything to do at this time (a
    read, cheap and without writes): when it answers False the tick enqueues nothing,
    leaving no job row, and the schedule waits for its next time. For schedules that
    poll often for work that is usually absent (the per-minute workflow ticks)."""

    name: str
    task: str
    cron: str
    then: tuple[str, ...] = ()
    wanted: Wanted | None = None


SCHEDULES: dict[str, Schedule] = {}


def register_schedule(schedule: Schedule) -> None:
    SCHEDULES[schedule.name] = schedule
