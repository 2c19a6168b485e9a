"""The append-only event log.

New event types (tickets, surveys, stage changes...) need no schema change: ``type`` is
free text and type-specific fields live in ``payload``. Money and line items have columns
because analytics aggregate them in SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow

MONEY_EVENT_TYPES = frozenset({"order", "refund"})
#: Events Tenure writes about what it concluded (lifecycle's stage changes, segment entries
#: and exits), not something the customer or the team did: activity lists leave them out,
#: and churn features must (counted, each refresh fed its outputs back into the next).
DERIVED_TYPES = ("stage_changed", "segment_entered", "segment_exited")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # The timeline and the 360 view read a person's events newest first.
        Index("ix_events_person_time", "person_id", "occurred_at", "id"),
        # Order aggregates (count, revenue, first/last) read only this index.
        Index("ix_events_person_type_time", "person_id", "type", "occurred_at", "amount_minor"),
        # An organization's own timeline (activities and notes logged on it), newest first.
        Index("ix_events_organization_time", "organization_id", "occurred_at", "id"),
        # Home's recent activity: the whole log newest first (without it, a sort of every
        # event: 1.7 s at 1M events). Events mostly arrive in time order, so inserts
        # append to its right edge (migration 0013_events_time). Person and type make it
        # cover the nightly refresh's window counts (migration 0018_events_time_covering).
        Index("ix_events_time", "occurred_at", "id", "person_id", "type"),
        # Every event has a subject: a person, or an organization (migration 0012).
        CheckConstraint(
            "(person_id IS NOT NULL) OR (organization_id IS NOT NULL)", name="one_subject"
        ),
        Index(
            "uq_events_source_client_event_id",
            "source",
            "client_event_id",
            unique=True,
            sqlite_where=text("client_event_id IS NOT NULL"),
            postgresql_where=text("client_event_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Null only for an event logged on an organization itself (``organization_id``).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(50))
    channel: Mapped[str | None] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(100))
    client_event_id: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class EventItem(Base):
    """A line item of an order or refund."""

    __tablename__ = "event_items"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


class OrderTotal(Base):
    """One customer's orders and refunds in total, kept by database triggers on ``events``.

    Every write of an order or refund (insert, move to another person by a merge, delete,
    a person's deletion) updates its person's row in the same statement, whoever the
    writer is (``timeline.order_totals`` holds the triggers). The nightly refresh reads
    these rows instead of aggregating every order (``scores.features``). A person with
    neither has no row; one with refunds only has ``order_count`` 0. Days are UTC
    calendar days as day numbers (days since 1970-01-01), as the scores count them.
    """

    __tablename__ = "order_totals"

    person_id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: Distinct UTC calendar days with an order (the scores' purchase days).
    order_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    first_order_day: Mapped[int | None] = mapped_column(Integer)
    last_order_day: Mapped[int | None] = mapped_column(Integer)
    #: Sums of ``amount_minor`` (null when no row has an amount), as SQL's ``sum``.
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    first_day_revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    refund_minor: Mapped[int | None] = mapped_column(BigInteger)
