"""Tables of the lifecycle: the stage model, its rules, each person's stage and its history.

The stage model is data: ``lifecycle_stages`` (ordered by ``position``) and
``lifecycle_rules`` (a JSON condition per rule, tried in ``priority`` order; the first
that holds places the person in its stage). ``person_stages`` holds the current stage
of every placed person, with the manual override when there is one; ``stage_history``
keeps every change, and each change is also a ``stage_changed`` event on the timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow

#: ``source`` of a stage change and of its ``stage_changed`` event payload.
SOURCE_RULE = "rule"
SOURCE_OVERRIDE = "override"
#: ``source`` column of the ``stage_changed`` events lifecycle writes to the timeline.
EVENT_SOURCE = "lifecycle"
STAGE_CHANGED = "stage_changed"


class LifecycleStage(Base):
    """A stage of the workspace's model.

    ``in_funnel`` stages form the forward funnel in ``position`` order (Prospect to
    Advocate by default); the others (At risk, Lapsed) are where customers drop to, and
    funnel analytics count a move into one of them as a drop.
    """

    __tablename__ = "lifecycle_stages"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)
    in_funnel: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LifecycleRule(Base):
    """One rule: when ``condition`` holds (see ``tenure.lifecycle.conditions``), the person
    is in ``stage_id``. Lower ``priority`` is tried first."""

    __tablename__ = "lifecycle_rules"
    __table_args__ = (Index("ix_lifecycle_rules_priority_id", "priority", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("lifecycle_stages.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer)
    condition: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LifecycleSettings(Base):
    """The workspace's lifecycle switches (one row, created with the default model).

    ``incremental``: re-evaluate the people of every ingested event batch in the ingesting
    transaction. Off, stages change only in batch (``tenure lifecycle evaluate``, after a
    scores refresh); a large back-fill may want that.
    """

    __tablename__ = "lifecycle_settings"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    incremental: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PersonStage(Base):
    """A person's current stage; ``overridden`` pins it against the rules until cleared."""

    __tablename__ = "person_stages"

    person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("lifecycle_stages.id", ondelete="RESTRICT"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("lifecycle_rules.id", ondelete="SET NULL")
    )
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StageHistory(Base):
    """One stage change. ``from_stage_id`` is null for a person's first stage.

    ``source`` is ``rule`` (``rule_id`` says which) or ``override`` (``actor_id`` and
    ``reason`` say who and why). The matching timeline event has source ``lifecycle``
    and client_event_id ``stage-<id>``, so the unique index on events guarantees one event
    per change.
    """

    __tablename__ = "stage_history"
    __table_args__ = (
        # A person's history, oldest first (person page, spells for time in stage).
        Index("ix_stage_history_person_changed", "person_id", "changed_at", "id"),
        # Funnel and cohort queries group entries per stage.
        Index("ix_stage_history_to_stage_changed", "to_stage_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("lifecycle_stages.id", ondelete="RESTRICT")
    )
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_stages.id", ondelete="RESTRICT"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("lifecycle_rules.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class StagePlacement(Base):
    """One batch placement of everyone (``full``) or of the people whose inputs changed,
    with the marks it read before it started: the next incremental placement re-places
    the people past them (``tenure.lifecycle.placement``).

    ``scores_fitted_at``: the newest refresh's ``score_refreshes.fitted_at`` (a score
    row's ``refresh_id`` is the refresh that last changed its values); ``event_id``: the
    newest event; ``people_updated_at``: the newest ``people.updated_at`` (edits, tags, attributes).
    ``rules_key`` fingerprints the enabled rules: other rules place everyone again.
    """

    __tablename__ = "stage_placements"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    full: Mapped[bool] = mapped_column(Boolean)
    rules_key: Mapped[str] = mapped_column(String(64))
    scores_fitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    event_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    people_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    people: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
