"""Tables of identity resolution: proposed duplicate pairs and the merges made from them.

Person ids here carry no foreign key, on purpose: a merge deletes the merged-away person,
and both the pair that led to it and the merge record (the loser's full snapshot, needed
to undo it) must outlive that row, as import_issues.person_id outlives merges.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class CandidateStatus(enum.StrEnum):
    pending = "pending"  # in the review queue
    merged = "merged"  # merged, automatically or by a person (merge_id says which merge)
    dismissed = "dismissed"  # a person said "not the same": never proposed again
    # Pending when one of its people was merged into someone else (merge_id says by which
    # merge): the evidence described a record that no longer exists. Undoing that merge
    # puts it back in the queue; a later scan proposes the survivor's pair afresh.
    stale = "stale"


class DuplicateCandidate(Base):
    """A pair of people the matcher judged probably (or certainly) the same person.

    ``left_id < right_id`` always, so a pair has one row whatever order a scan found it in;
    ``decision`` is what the matcher advised ("auto" or "review"), ``evidence`` its
    per-field comparison in words (``{field: {"level": text, "weight": bits}}``).
    """

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        UniqueConstraint("left_id", "right_id"),
        # The review queue pages through pending pairs, most probable first.
        Index("ix_duplicate_candidates_queue", "status", "score", "id"),
        Index("ix_duplicate_candidates_right_id", "right_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    left_id: Mapped[int] = mapped_column(BigInteger)
    right_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=CandidateStatus.pending.value)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The merge that merged this pair (status merged) or made it stale.
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("merges.id", ondelete="SET NULL"))


class MergeRun(Base):
    """One whole-base scan that merged: its merges carry its id and undo as a whole.

    ``counts`` is the scan's report (people, pairs, merges made, pairs queued);
    ``undo_notes`` lists, after an undo of the run, the merges that could not be undone
    and what of the others could not be restored (see ``dedup.runs``).
    """

    __tablename__ = "merge_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # "scan" today; a name so that later bulk sources (an import's merges) fit.
    kind: Mapped[str] = mapped_column(String(20), default="scan")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    counts: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undo_notes: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)


class Merge(Base):
    """One person merged into another, with everything needed to undo it.

    - ``loser_snapshot``: the merged-away person's row, as stored (JSON-encoded columns);
    - ``survivor_before`` / ``survivor_after``: the survivor's row before and right after
      the merge; undo restores "before" when the row still equals "after", and otherwise
      only the fields nobody has edited since;
    - ``decisions``: per conflicting or filled field, both values, the kept one and why;
    - ``moves``: per table, the keys of the loser's rows re-pointed to the survivor, the
      rows dropped because the survivor already had them (kept here in full), and the
      identities whose primary flag was cleared.
    """

    __tablename__ = "merges"
    __table_args__ = (
        Index("ix_merges_loser_id", "loser_id"),
        Index("ix_merges_survivor_id", "survivor_id"),
        Index("ix_merges_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(BigInteger)
    loser_id: Mapped[int] = mapped_column(BigInteger)
    # "auto" (a scan), "review" (the queue), "manual" (POST /people/{id}/merge).
    source: Mapped[str] = mapped_column(String(10))
    score: Mapped[float | None] = mapped_column(Float)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    loser_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    survivor_before: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    survivor_after: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    decisions: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    moves: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The scan (merge run) that made this merge; None for a merge of the queue or by hand.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("merge_runs.id", ondelete="SET NULL"))
    # What an undo could not put back (a related row deleted since): words for a person.
    undo_notes: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)


def _kind(column_type: TypeEngine[Any]) -> str:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Numeric) and not isinstance(column_type, Float):
        return "decimal"
    if isinstance(column_type, LargeBinary):
        return "bytes"
    return "plain"


def encode_value(value: Any) -> Any:
    """A column value as JSON: times and dates in ISO 8601 (with the UTC offset), exact
    decimals as text, bytes in base64; :func:`decode_value` gives back an equal value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def decode_value(column: Column[Any], value: Any) -> Any:
    kind = _kind(column.type)
    if value is None or kind == "plain":
        return value
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    return base64.b64decode(value)


def encode_row(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    # str(): SQLAlchemy names are a str subclass, which orjson refuses as a key.
    return {str(column.name): encode_value(row[column.name]) for column in table.columns}


def decode_row(table: Table, data: Mapping[str, Any]) -> dict[str, Any]:
    # A column added after the snapshot was taken is left out and keeps its default.
    return {c.name: decode_value(c, data[c.name]) for c in table.columns if c.name in data}
