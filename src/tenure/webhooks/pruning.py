"""Pruning the delivery log: deliveries and attempts older than ``TENURE_WEBHOOK_LOG_DAYS``.

The log keeps every body sent and the start of every answer, so it grows with the event
stream; past the retention it is deleted by the daily ``webhooks.prune_log`` job. Age is
system time (``utcnow``: when Tenure sent them), not the workspace's business clock. A
delivery's age is its last attempt (a recent manual redelivery keeps an old delivery),
and a delivery still pending (its job will run) is never deleted. Deletes go in chunks,
each its own transaction, so SQLite's write lock is never held for long; a retry after a
crash deletes what is left (idempotent).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.db.session import unit_of_work
from tenure.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

PRUNE_TASK = "webhooks.prune_log"
#: Deliveries deleted per transaction (their attempts with them).
CHUNK = 2000


def _old_deliveries(session: Session, cutoff: datetime) -> list[int]:
    last_activity = func.coalesce(WebhookDelivery.last_attempt_at, WebhookDelivery.created_at)
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                last_activity < cutoff,
                WebhookDelivery.status != DeliveryStatus.pending.value,
            )
            .order_by(WebhookDelivery.id)
            .limit(CHUNK)
        )
    )


def prune_delivery_log(factory: sessionmaker[Session], *, cutoff: datetime) -> dict[str, int]:
    """Delete settled deliveries last attempted before ``cutoff`` with their attempts,
    then any attempt older than it; returns how many of each."""
    deliveries = attempts = 0
    while True:
        with unit_of_work(factory) as session:
            ids = _old_deliveries(session, cutoff)
            if not ids:
                break
            attempts += (
                session.connection()
                .execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
                .rowcount
            )
            deliveries += (
                session.connection()
                .execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
                .rowcount
            )
    with unit_of_work(factory) as session:
        # Attempts of deliveries still kept (a long-pending retry): the log of their age.
        attempts += (
            session.connection()
            .execute(delete(WebhookAttempt).where(WebhookAttempt.started_at < cutoff))
            .rowcount
        )
    return {"deliveries": deliveries, "attempts": attempts}
