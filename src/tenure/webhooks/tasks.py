"""The delivery job: one signed POST per run, retried by the job runner's backoff.

The handler holds no transaction during the POST: it reads the delivery in a short
transaction of its own, posts, and logs the attempt in another (``attempts``). A
retryable answer raises, so the runner puts the job back after its backoff (5 s doubling
to an hour, with jitter; ``DELIVERY_MAX_ATTEMPTS`` attempts span about 7 hours); the
last one, or a permanent refusal, settles the delivery as failed and the job ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.jobs import JobContext, task
from tenure.jobs.models import Job
from tenure.webhooks import sending
from tenure.webhooks.attempts import record_attempt, record_skipped
from tenure.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tenure.webhooks.pruning import PRUNE_TASK, prune_delivery_log
from tenure.webhooks.reactions import DELIVER_TASK

#: 16 attempts: the runner's backoff (5 s x 2^(n-1), capped at 1 h) spaces them over
#: about 7.4 hours, so an endpoint down for a deploy or a night catches up by itself.
DELIVERY_MAX_ATTEMPTS = 16


class DeliveryFailed(RuntimeError):
    """A retryable failure: the job runner tries again after its backoff."""


@task(DELIVER_TASK, max_attempts=DELIVERY_MAX_ATTEMPTS, timeout_seconds=300)
def deliver_webhook_job(ctx: JobContext) -> dict[str, Any]:
    """POST one webhook delivery, signed; retried with backoff."""
    webhook_id = str(ctx.payload["webhook_id"])
    manual = bool(ctx.payload.get("manual", False))
    with ctx.session_factory() as session:  # a short read, ended before the POST
        found = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.status,
                WebhookDelivery.body,
                WebhookDelivery.job_id,
                WebhookSubscription.id.label("subscription_id"),
                WebhookSubscription.url,
                WebhookSubscription.secret,
                WebhookSubscription.enabled,
            )
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.webhook_id == webhook_id)
        ).first()
        max_attempts = session.scalar(select(Job.max_attempts).where(Job.id == ctx.job_id))
    if found is None:
        return {"webhook_id": webhook_id, "status": "gone (its subscription was deleted)"}
    if found.job_id is not None and found.job_id != ctx.job_id:
        return {"webhook_id": webhook_id, "status": "superseded by a redelivery"}
    if found.status == DeliveryStatus.succeeded.value and not manual:
        # Delivered by an earlier run whose completion was lost (at least once).
        return {"webhook_id": webhook_id, "status": "already delivered"}
    if not found.enabled:
        with unit_of_work(ctx.session_factory) as session:
            record_skipped(session, delivery_id=found.id, reason="the endpoint is disabled")
        return {"webhook_id": webhook_id, "status": DeliveryStatus.skipped.value}

    started_at = utcnow()
    attempted = sending.post(
        url=found.url,
        secret=found.secret,
        webhook_id=webhook_id,
        body=found.body.encode("utf-8"),
        timeout_seconds=ctx.settings.webhook_timeout_seconds,
        allow_private=ctx.settings.webhook_allow_private_addresses,
    )
    outcome = attempted.outcome
    if outcome is sending.Outcome.retry and ctx.attempt >= (max_attempts or 1):
        outcome = sending.Outcome.failed  # out of retries
    with unit_of_work(ctx.session_factory) as session:
        disabled = record_attempt(
            session,
            delivery_id=found.id,
            subscription_id=found.subscription_id,
            attempted=attempted,
            outcome=outcome,
            started_at=started_at,
            manual=manual,
            job_id=ctx.job_id,
            disable_after=ctx.settings.webhook_disable_after_failures,
        )
    if outcome is sending.Outcome.retry:
        raise DeliveryFailed(f"{attempted.error}; retried after the backoff")
    return {
        "webhook_id": webhook_id,
        "status": outcome.value,
        "status_code": attempted.status_code,
        "error": attempted.error,
        "endpoint_disabled": disabled,
    }


@task(PRUNE_TASK, max_attempts=3, timeout_seconds=3600)
def prune_webhook_log_job(ctx: JobContext) -> dict[str, Any]:
    """Delete webhook deliveries and attempts older than TENURE_WEBHOOK_LOG_DAYS."""
    cutoff = utcnow() - timedelta(days=ctx.settings.webhook_log_days)
    return {"before": cutoff, **prune_delivery_log(ctx.session_factory, cutoff=cutoff)}
