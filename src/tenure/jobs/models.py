"""The jobs table (the outbox) and the cron schedules that fill it.

A job row is written in the same transaction as the domain change that asks for it, so
it exists if and only if that change committed. Workers claim rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, one ``BEGIN IMMEDIATE`` claimer at a time on SQLite), hold them
under a lease they keep extending, and complete them in the handler's own transaction,
fenced by the lease token: a worker that lost its lease cannot commit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class JobState(StrEnum):
    queued = "queued"  # waiting for run_at (a retry waits here too)
    running = "running"  # claimed by a worker under a lease
    succeeded = "succeeded"
    dead = "dead"  # out of attempts: the error and traceback say why
    cancelled = "cancelled"


#: Lower runs first. Transactional work (an email a user just triggered) never waits
#: behind bulk work (a nightly refresh over every customer).
PRIORITY_TRANSACTIONAL = 0
PRIORITY_DEFAULT = 50
PRIORITY_BULK = 100


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(50), default="default")
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITY_DEFAULT)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=JobState.queued.value)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=600)
    # Stable across retries: handlers pass it on (a Message-ID, a webhook id) so that an
    # effect repeated after a crash is recognised downstream. Unique: enqueueing the same
    # key twice returns the first job.
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # At most one *queued* job per unique key ("one pending refresh at a time").
    unique_key: Mapped[str | None] = mapped_column(String(200))
    # Task names to enqueue, in order, after this one succeeds (the nightly chain).
    then: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    schedule: Mapped[str | None] = mapped_column(String(100))
    lease_token: Mapped[str | None] = mapped_column(String(40))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)

    __table_args__ = (
        Index("ix_jobs_claim", "state", "priority", "run_at", "id"),
        Index("uq_jobs_idempotency_key", "idempotency_key", unique=True),
        Index(
            "uq_jobs_unique_key_queued",
            "unique_key",
            unique=True,
            sqlite_where=text("state = 'queued'"),
            postgresql_where=text("state = 'queued'"),
        ),
        Index("ix_jobs_task_state", "task", "state"),
    )


class JobSchedule(Base):
    """A cron schedule: when ``next_run_at`` passes, a worker enqueues ``task``."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    cron: Mapped[str] = mapped_column(String(100))
    then: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_job_id: Mapped[int | None] = mapped_column(Id)
