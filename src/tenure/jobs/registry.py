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


@dataclass(frozen=True)
class Task:
    name: str
    handler: Handler
    queue: str = "default"
    priority: int = PRIORITY_DEFAULT
    max_attempts: int = 5
    timeout_seconds: int = 600
    description: str = ""


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


@dataclass(frozen=True)
class Schedule:
    """A cron schedule declared in code; workers copy it to ``job_schedules``."""

    name: str
    task: str
    cron: str
    then: tuple[str, ...] = ()


SCHEDULES: dict[str, Schedule] = {}


def register_schedule(schedule: Schedule) -> None:
    SCHEDULES[schedule.name] = schedule
