"""Imports every capability's job handlers and declares the schedules, for the worker.

A composition root like :mod:`tenure.all_models`: it sits above every capability, so
``jobs`` (infrastructure) never imports one.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tenure.automation import tasks as automation_tasks
from tenure.config import Settings
from tenure.db.session import make_session_factory, unit_of_work
from tenure.home import tasks as home_tasks
from tenure.jobs import tasks as jobs_tasks
from tenure.jobs.enqueue import enqueue
from tenure.jobs.registry import TASKS, Schedule, Task, mark_registry_complete
from tenure.jobs.worker import Worker
from tenure.lifecycle import tasks as lifecycle_tasks
from tenure.messaging import tasks as messaging_tasks
from tenure.retention import tasks as retention_tasks
from tenure.scores import tasks as scores_tasks
from tenure.segments import tasks as segments_tasks
from tenure.summaries import tasks as summaries_tasks
from tenure.webhooks import tasks as webhooks_tasks

#: The nightly chain, each step its own job, each enqueued when the previous succeeded:
#: lifecycle rules read the scores, segments read stages and scores, retention reads
#: scores, the next-best-action rules read orders.
NIGHTLY_CHAIN = (
    "scores.refresh",
    "lifecycle.evaluate_all",
    "segments.refresh_all",
    "retention.refresh",
    "retention.mine_nba",
    # Workflows' score_crossed triggers: who crossed a threshold since the last refresh.
    automation_tasks.SCORES_TASK,
)
NIGHTLY = "nightly"
#: Workflows: due steps run within a minute of their time (sooner when due at once:
#: enrolment queues the advance job itself); schedule and date triggers are checked.
#: Each tick asks first (``wanted``): with no step due, or no workflow with such a
#: trigger, it enqueues no job, so a workspace without workflows adds no row a minute.
AUTOMATION_EVERY_MINUTE = "* * * * *"
#: The daily pruning of the webhook delivery log (system time, after the nightly chain).
WEBHOOK_LOG_PRUNING = "webhook-log-pruning"
#: The daily pruning of settled jobs (system time, after the nightly chain and the
#: webhook log's pruning).
JOB_PRUNING = "job-pruning"

# Every capability's tasks module is imported above: enqueue may now refuse unknown names.
mark_registry_complete()


#: The read model's catch-up: summaries flagged stale by writers that queue no job (edits,
#: the tasks retention opens) are rebuilt within minutes; a run with none stale reads one
#: partial index and ends.
SUMMARIES = "summaries"
SUMMARIES_CRON = "*/5 * * * *"

#: Home's key figures, stored per book (a visit reads them by key instead of adding up
#: the workspace); the page shows when they were computed.
HOME_FIGURES = "home-figures"


def schedules(settings: Settings) -> list[Schedule]:
    return [
        Schedule(
            name=NIGHTLY,
            task=NIGHTLY_CHAIN[0],
            cron=settings.nightly_schedule,
            then=NIGHTLY_CHAIN[1:],
        ),
        Schedule(
            name="automation.advance",
            task=automation_tasks.ADVANCE_TASK,
            cron=AUTOMATION_EVERY_MINUTE,
            wanted=automation_tasks.advance_wanted,
        ),
        Schedule(
            name="automation.triggers",
            task=automation_tasks.TRIGGERS_TASK,
            cron=AUTOMATION_EVERY_MINUTE,
            wanted=automation_tasks.triggers_wanted,
        ),
        Schedule(name=WEBHOOK_LOG_PRUNING, task=webhooks_tasks.PRUNE_TASK, cron="30 4 * * *"),
        Schedule(name=JOB_PRUNING, task=jobs_tasks.PRUNE_TASK, cron="45 4 * * *"),
        Schedule(
            name=SUMMARIES,
            task=summaries_tasks.TASK,
            cron=SUMMARIES_CRON,
            wanted=summaries_tasks.any_stale,
        ),
        Schedule(name=HOME_FIGURES, task=home_tasks.TASK, cron=home_tasks.CRON),
    ]


def registered_tasks() -> dict[str, Task]:
    return dict(TASKS)


__all__ = [
    "HOME_FIGURES",
    "JOB_PRUNING",
    "NIGHTLY",
    "NIGHTLY_CHAIN",
    "WEBHOOK_LOG_PRUNING",
    "automation_tasks",
    "enqueue_nightly",
    "home_tasks",
    "jobs_tasks",
    "lifecycle_tasks",
    "messaging_tasks",
    "registered_tasks",
    "retention_tasks",
    "run_nightly_now",
    "schedules",
    "scores_tasks",
    "segments_tasks",
    "summaries_tasks",
    "webhooks_tasks",
]


def enqueue_nightly(session: Session) -> int:
    """Queue the nightly chain now (a new demo computes everything at once)."""
    return enqueue(
        session=session,
        task=NIGHTLY_CHAIN[0],
        then=NIGHTLY_CHAIN[1:],
        schedule=NIGHTLY,
        unique_key=f"schedule:{NIGHTLY}",
    )


def run_nightly_now(engine: Engine, settings: Settings) -> Worker:
    """Queue the nightly chain and run the queue until it is empty (``tenure init`` on a
    new demo: every page is filled in before the server starts). Returns the worker, whose
    ``completed`` and ``failed`` counts say how it went."""
    with unit_of_work(make_session_factory(engine)) as session:
        enqueue_nightly(session)
    worker = Worker(engine=engine, settings=settings, concurrency=1, schedules=schedules(settings))
    worker.run(until_empty=True)
    return worker
