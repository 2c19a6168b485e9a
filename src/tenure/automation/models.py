"""Workflows, their published versions, enrolments and step rows.

Times a person waits on (``due_at``, ``entered_at``) are on the workspace clock (business
time: a replayed workspace's waits elapse when its clock moves); ``created_at`` and
``ran_at`` are system time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class WorkflowStatus(StrEnum):
    draft = "draft"  # never published: nobody enters
    active = "active"  # its published version enrols and advances people
    paused = "paused"  # nobody enters and no step runs; people keep their place
    archived = "archived"  # ended: pending steps cancelled, kept for the report


class EnrolmentState(StrEnum):
    active = "active"  # in the workflow (or in its holdout, waiting for the goal)
    completed = "completed"  # ran past its last step
    goal_reached = "goal_reached"  # met the goal: remaining steps cancelled
    exited = "exited"  # an exit condition or an exit step removed them
    cancelled = "cancelled"  # a user cancelled, or the workflow was archived


class StepState(StrEnum):
    pending = "pending"  # waiting for due_at (or for an event, with a timeout at due_at)
    done = "done"  # ran; ``outcome`` says what it did
    skipped = "skipped"  # ran but did nothing, with the reason (no consent, fatigue)
    failed = "failed"  # could not run (a deleted template); the enrolment goes on or ends
    cancelled = "cancelled"  # the enrolment ended before it was due


class Workflow(Base):
    __tablename__ = "workflows"
    # A workflow step names another workflow by id: SQLite must never hand a deleted one's
    # id to a new workflow (migration 0013_autoincrement_ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=WorkflowStatus.draft.value)
    # What the builder edits; publishing copies it into a new WorkflowVersion.
    draft: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    published_version_id: Mapped[int | None] = mapped_column(Id)
    # When a schedule or date trigger last enrolled (workspace clock): the next tick
    # enrols only for times after it.
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkflowVersion(Base):
    """A published definition, never edited: people enrolled under it finish under it."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrolment(Base):
    """One entry of one person into one workflow: at most one per ``entry_key``.

    ``entry_key`` names what caused the entry (``event:<id>``, ``segment:<id>:<date>``,
    ``manual:<n>``...), so the same cause never enrols twice, whoever retries."""

    __tablename__ = "workflow_enrolments"
    __table_args__ = (
        UniqueConstraint("workflow_id", "person_id", "entry_key"),
        Index("ix_workflow_enrolments_person_state", "person_id", "state"),
        # With person_id last: "is this person active in this workflow" (re-entry, per
        # candidate at enrolment) is one index probe, not a scan of the active people.
        Index("ix_workflow_enrolments_workflow_state", "workflow_id", "state", "person_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    entry_key: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=EnrolmentState.active.value)
    # In the control group: enrolled for the report, no step runs for them.
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    # The step the person is at (None once ended).
    current_step: Mapped[str | None] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    trigger_event_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EnrolmentStep(Base):
    """One visit of one step by one enrolment: pending until due, then its outcome.

    ``idempotency_key`` (``<enrolment>:<step>:<visit>``) is unique: the row that runs a
    step is claimed by a conditional UPDATE, and the step's effect (a queued email, a task)
    carries the same key, so a crashed and retried run never acts twice."""

    __tablename__ = "workflow_enrolment_steps"
    __table_args__ = (
        Index("ix_workflow_enrolment_steps_due", "state", "due_at"),
        Index("uq_workflow_enrolment_steps_key", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_enrolments.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=StepState.pending.value)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScoreMark(Base):
    """Who was past a ``score_crossed`` trigger's threshold at the last scores refresh:
    the next refresh enrols only the people who were not (they crossed since)."""

    __tablename__ = "workflow_score_marks"

    workflow_id: Mapped[int] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
