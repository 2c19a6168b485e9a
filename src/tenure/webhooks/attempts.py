"""Recording an attempt and what follows from it: the delivery's status, the endpoint's
run of failures, and disabling an endpoint that keeps failing (with an audit entry).

Each record commits in a transaction of its own (the job handler's retry raises, which
rolls the job's own transaction back: the log must survive it). At least once, like any
write through ``ctx.session_factory``: a worker killed after this commit and before the
job's completion logs the attempt, and the next run sees the delivery settled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.identity.audit import record_audit
from tenure.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tenure.webhooks.sending import Attempted, Outcome


def record_attempt(
    session: Session,
    *,
    delivery_id: int,
    subscription_id: int,
    attempted: Attempted,
    outcome: Outcome,
    started_at: datetime,
    manual: bool,
    job_id: int,
    disable_after: int,
) -> bool:
    """Log one attempt (``outcome`` is ``attempted``'s, or ``failed`` once out of retries)
    and settle the delivery; returns whether the endpoint was disabled by it. The caller
    commits."""
    session.add(
        WebhookAttempt(
            delivery_id=delivery_id,
            started_at=started_at,
            duration_ms=attempted.duration_ms,
            status_code=attempted.status_code,
            response_excerpt=attempted.response_excerpt,
            error=attempted.error,
            outcome=outcome.value,
            manual=manual,
            job_id=job_id,
        )
    )
    status = {
        Outcome.succeeded: DeliveryStatus.succeeded,
        Outcome.retry: DeliveryStatus.pending,
        Outcome.failed: DeliveryStatus.failed,
    }[outcome]
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            attempts=WebhookDelivery.attempts + 1,
            status=status.value,
            last_status_code=attempted.status_code,
            last_error=attempted.error,
            last_attempt_at=started_at,
        )
    )
    subscription = WebhookSubscription
    if outcome is Outcome.succeeded:
        session.execute(
            update(WebhookSubscription)
            .where(subscription.id == subscription_id, subscription.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )
        return False
    if outcome is Outcome.retry or manual:
        # A delivery fails once, at its end; an admin's redelivery is a test, not a run.
        return False
    # One statement each: deliveries failing at once on several workers all count.
    session.execute(
        update(WebhookSubscription)
        .where(subscription.id == subscription_id)
        .values(consecutive_failures=subscription.consecutive_failures + 1)
    )
    reason = (
        f"Disabled after {disable_after} deliveries in a row failed; the last: "
        f"{attempted.error or 'no answer'}."
    )
    disabled = (
        session.connection()
        .execute(
            update(WebhookSubscription)
            .where(
                subscription.id == subscription_id,
                subscription.enabled.is_(True),
                subscription.consecutive_failures >= disable_after,
            )
            .values(enabled=False, disabled_at=utcnow(), disabled_reason=reason)
        )
        .rowcount
    )
    if disabled:
        record_audit(
            session=session,
            actor_id=None,
            action="disable",
            entity_type="webhook_subscription",
            entity_id=subscription_id,
            changes={"enabled": {"before": True, "after": False}, "reason": reason},
        )
    return bool(disabled)


def record_skipped(session: Session, *, delivery_id: int, reason: str) -> None:
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(status=DeliveryStatus.skipped.value, last_error=reason)
    )
