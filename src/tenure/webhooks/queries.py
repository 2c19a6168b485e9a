"""Reading subscriptions and the delivery log (the pages and the API)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.jobs.models import Job, JobState
from tenure.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

#: How a secret is shown after creation: enough to tell two apart, not to sign.
SECRET_SHOWN_CHARS = 10


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, subscription_id)


def delivery_counts(session: Session) -> dict[int, dict[str, int]]:
    """Deliveries per subscription and status, counted in SQL."""
    rows = session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count()).group_by(
            WebhookDelivery.subscription_id, WebhookDelivery.status
        )
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in DeliveryStatus})
    for subscription_id, status, count in rows:
        counts[subscription_id][status] = int(count)
    return counts


def subscription_dict(
    subscription: WebhookSubscription, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """The subscription as the API shows it: the secret only as a hint."""
    return {
        "id": subscription.id,
        "url": subscription.url,
        "description": subscription.description,
        "event_types": list(subscription.event_types),
        "enabled": subscription.enabled,
        "consecutive_failures": subscription.consecutive_failures,
        "disabled_at": subscription.disabled_at,
        "disabled_reason": subscription.disabled_reason,
        "secret_hint": subscription.secret[:SECRET_SHOWN_CHARS] + "…",
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
        "deliveries": counts or {s.value: 0 for s in DeliveryStatus},
    }


def list_deliveries(
    session: Session,
    *,
    subscription_id: int,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Deliveries newest first, with when the next retry is due (a queued job)."""
    query = (
        select(WebhookDelivery, Job.run_at)
        .outerjoin(Job, (Job.id == WebhookDelivery.job_id) & (Job.state == JobState.queued.value))
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return [delivery_dict(d, next_attempt_at=run_at) for d, run_at in session.execute(query)]


def get_delivery(session: Session, delivery_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(WebhookDelivery, Job.run_at)
        .outerjoin(Job, (Job.id == WebhookDelivery.job_id) & (Job.state == JobState.queued.value))
        .where(WebhookDelivery.id == delivery_id)
    ).first()
    if row is None:
        return None
    found = delivery_dict(row[0], next_attempt_at=row[1])
    found["body"] = row[0].body
    found["attempt_log"] = attempts_of(session, [delivery_id]).get(delivery_id, [])
    return found


def delivery_dict(delivery: WebhookDelivery, *, next_attempt_at: Any = None) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "webhook_id": delivery.webhook_id,
        "event_type": delivery.event_type,
        "event_id": delivery.event_id,
        "person_id": delivery.person_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_attempt_at": delivery.last_attempt_at,
        "next_attempt_at": next_attempt_at,
        "redeliveries": delivery.redeliveries,
        "created_at": delivery.created_at,
    }


def attempts_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The attempt log of each delivery, oldest first (one query)."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not delivery_ids:
        return found
    rows = session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
        .order_by(WebhookAttempt.id)
    )
    for attempt in rows:
        found[attempt.delivery_id].append(
            {
                "started_at": attempt.started_at,
                "duration_ms": attempt.duration_ms,
                "status_code": attempt.status_code,
                "response_excerpt": attempt.response_excerpt,
                "error": attempt.error,
                "outcome": attempt.outcome,
                "manual": attempt.manual,
            }
        )
    return found
