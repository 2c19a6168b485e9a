"""Webhook subscriptions, their deliveries (one per event and subscription) and the
attempts of each delivery (the delivery log)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow

#: A subscription to every event type.
ALL_EVENTS = "*"


class DeliveryStatus(StrEnum):
    pending = "pending"  # queued, or waiting for its next retry
    succeeded = "succeeded"  # the endpoint answered 2xx
    failed = "failed"  # a permanent refusal (4xx), or out of retries
    skipped = "skipped"  # the endpoint was disabled when the delivery's turn came


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    # A deleted id is never handed out again (migration 0013_autoincrement_ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(1000), default="")
    # Event type names, or ["*"] for every type.
    event_types: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # "whsec_" + base64 of 32 random bytes: the Standard Webhooks secret format. Kept in
    # the clear because signing needs it; shown once, when the subscription is created.
    secret: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Deliveries that ended failed in a row; reset by a success. At the setting
    # TENURE_WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled with a notice.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class WebhookDelivery(Base):
    """One event for one subscription: one ``webhook-id``, the same on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
        Index("uq_webhook_deliveries_webhook_id", "webhook_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    # The webhook-id header ("msg_..."): receivers deduplicate on it.
    webhook_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(50))
    # No foreign keys: the log outlives a merged or erased person and their events.
    event_id: Mapped[int | None] = mapped_column(Id)
    person_id: Mapped[int | None] = mapped_column(Id)
    # The exact bytes sent (UTF-8 JSON), so every attempt signs and sends the same body.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The job that delivers it now (the first one, or the latest redelivery's).
    job_id: Mapped[int | None] = mapped_column(Id)
    redeliveries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Base):
    """One POST of a delivery: the log an admin reads when an endpoint misbehaves."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    # The start of the endpoint's answer (RESPONSE_EXCERPT_CHARS), for debugging.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # "succeeded", "retry" (a retry follows) or "failed" (none will).
    outcome: Mapped[str] = mapped_column(String(20))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    job_id: Mapped[int | None] = mapped_column(Id)


def subscription_fields(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log keeps of a subscription (never the secret)."""
    return {
        "url": subscription.url,
        "description": subscription.description,
        "event_types": list(subscription.event_types),
        "enabled": subscription.enabled,
    }
