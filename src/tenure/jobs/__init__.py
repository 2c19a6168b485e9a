"""The durable job runner, scheduler and outbox (see docs/jobs.md)."""

from tenure.jobs.enqueue import enqueue
from tenure.jobs.models import PRIORITY_BULK, PRIORITY_DEFAULT, PRIORITY_TRANSACTIONAL
from tenure.jobs.registry import JobContext, Schedule, register_schedule, task

__all__ = [
    "PRIORITY_BULK",
    "PRIORITY_DEFAULT",
    "PRIORITY_TRANSACTIONAL",
    "JobContext",
    "Schedule",
    "enqueue",
    "register_schedule",
    "task",
]
