"""The outbox of emails (one row per message to one person) and the suppression list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, UTCDateTime, utcnow


class Purpose(StrEnum):
    marketing = "marketing"
    transactional = "transactional"


class MessageStatus(StrEnum):
    queued = "queued"  # waiting for its job
    deferred = "deferred"  # quiet hours or a sending limit: its job runs again later
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"  # refused for good (a 5xx, or a 4xx after the last attempt)
    suppressed = "suppressed"  # skipped: no consent, fatigue, a suppressed address


class SuppressionSource(StrEnum):
    bounce = "bounce"  # a permanent SMTP failure at send time
    complaint = "complaint"  # a feedback report (ARF)
    manual = "manual"  # added by an admin


class Message(Base):
    """One email to one person, rendered, with what became of it.

    ``message_id_header`` is fixed when the message is queued, from the idempotency key
    of its job: every attempt (a retry, a resend after a crash) carries the same
    Message-ID, so the receiving side recognises a repeat.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_id", "status", "id"),
        Index("ix_messages_person_id", "person_id", "id"),
        # Fatigue: a person's marketing messages sent in the window.
        Index("ix_messages_person_purpose_sent", "person_id", "purpose", "sent_at"),
        # Sending limits: messages sent in the last minute and hour.
        Index("ix_messages_sent_at", "sent_at"),
        Index("uq_messages_message_id_header", "message_id_header", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.queued.value)
    reason: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str] = mapped_column(String(250))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    template_version_id: Mapped[int | None] = mapped_column(Id)
    campaign_key: Mapped[str | None] = mapped_column(String(200), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class Suppression(Base):
    """An address no email goes to, and why (a hard bounce, a complaint, an admin)."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Lowercased: mailboxes are case-insensitive in practice (customers.normalize).
    address: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
