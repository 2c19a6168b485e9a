"""Tables of segments: definitions, current members, and size over time.

A dynamic segment's members are materialized in ``segment_members`` by each refresh (and
a static list's by explicit adds and removes), so that members pages, exports, automation
triggers and other filters (``segment = "..."``) read an index instead of re-evaluating
the filter. Who entered and left, and when, is on the timeline as ``segment_entered`` /
``segment_exited`` events; ``segment_snapshots`` keeps the size after every change.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, UTCDateTime, utcnow


class SegmentKind(enum.StrEnum):
    dynamic = "dynamic"
    static = "static"


class Segment(Base):
    """A named set of people: a filter (dynamic) or an explicit list (static).

    ``builtin_key`` marks the built-in RFM segments and value tiers (``rfm.champions``,
    ``tier.premium``): they are refreshed like any dynamic segment but not edited.
    """

    __tablename__ = "segments"
    # A deleted id is never handed out again (migration 0013_autoincrement_ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(12))
    filter: Mapped[str | None] = mapped_column(Text)
    builtin_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SegmentMember(Base):
    __tablename__ = "segment_members"
    # The primary key (segment_id, person_id) pages members in person order; the
    # person index answers "which segments is this person in" and ON DELETE CASCADE.
    __table_args__ = (Index("ix_segment_members_person_id", "person_id"),)

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SegmentSnapshot(Base):
    """The size of a segment after one refresh or list change, with what changed."""

    __tablename__ = "segment_snapshots"
    __table_args__ = (Index("ix_segment_snapshots_segment_id_taken_at", "segment_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    members: Mapped[int] = mapped_column(Integer)
    entered: Mapped[int] = mapped_column(Integer)
    exited: Mapped[int] = mapped_column(Integer)
