"""The delivery log is pruned by its scheduled job: settled deliveries (with their
attempts) last attempted before TENURE_WEBHOOK_LOG_DAYS, by system time, are deleted;
recent and pending ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tenure.all_tasks import WEBHOOK_LOG_PRUNING, schedules
from tenure.config import Settings
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.types import utcnow
from tenure.jobs import enqueue
from tenure.jobs.models import Job
from tenure.webhooks.models import WebhookAttempt, WebhookDelivery
from tenure.webhooks.pruning import PRUNE_TASK
from tests.webhooks.test_delivery import _drain, _subscribe


def _delivery(
    session: Session,
    subscription_id: int,
    name: str,
    status: str,
    age_days: float,
    *,
    attempted_days: float | None = None,
) -> int:
    now = utcnow()
    delivery = WebhookDelivery(
        subscription_id=subscription_id,
        webhook_id=f"msg_{name}",
        event_type="order",
        body="{}",
        status=status,
        created_at=now - timedelta(days=age_days),
        last_attempt_at=None if attempted_days is None else now - timedelta(days=attempted_days),
    )
    session.add(delivery)
    session.flush()
    for days in {age_days, attempted_days or age_days}:
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                started_at=now - timedelta(days=days),
                outcome="succeeded" if status == "succeeded" else "retry",
            )
        )
    return delivery.id


def test_the_scheduled_job_deletes_deliveries_and_attempts_past_the_retention(
    hook_engine: Engine, hook_settings: Settings
) -> None:
    settings = hook_settings.model_copy(update={"webhook_log_days": 30})
    subscription_id, _ = _subscribe(hook_engine, "https://hooks.example.com/a", ["order"])
    with unit_of_work(make_session_factory(hook_engine)) as session:
        old = _delivery(session, subscription_id, "old", "succeeded", 45, attempted_days=45)
        old_failed = _delivery(session, subscription_id, "old-failed", "failed", 31)
        redelivered = _delivery(
            session, subscription_id, "redelivered", "succeeded", 60, attempted_days=2
        )
        recent = _delivery(session, subscription_id, "recent", "succeeded", 3, attempted_days=3)
        pending = _delivery(session, subscription_id, "pending", "pending", 40)
        enqueue(session=session, task=PRUNE_TASK)

    _drain(hook_engine, settings)

    with Session(hook_engine) as session:
        kept = set(session.scalars(select(WebhookDelivery.id)))
        attempts = session.execute(
            select(WebhookAttempt.delivery_id, WebhookAttempt.started_at)
        ).all()
        job = session.scalars(select(Job).where(Job.task == PRUNE_TASK)).one()
    assert kept == {redelivered, recent, pending}
    assert old not in kept and old_failed not in kept
    cutoff = utcnow() - timedelta(days=30)
    # What stays has no attempt older than the retention; the old ones went with them
    assert {a.delivery_id for a in attempts} == {redelivered, recent}
    assert all(a.started_at > cutoff for a in attempts)
    assert job.state == "succeeded"
    assert (job.result["deliveries"], job.result["attempts"]) == (2, 4)


def test_the_pruning_is_scheduled_daily(hook_settings: Settings) -> None:
    (pruning,) = [s for s in schedules(hook_settings) if s.name == WEBHOOK_LOG_PRUNING]
    assert (pruning.task, pruning.cron) == (PRUNE_TASK, "30 4 * * *")
