"""The reaction stays cheap for bulk appends: subscriptions read once per transaction,
nothing more when none wants the events; a rolled-back append leaves no delivery."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tenure.jobs.models import Job
from tenure.timeline.append import append_events
from tenure.timeline.models import Event
from tenure.webhooks import actions
from tenure.webhooks.models import WebhookDelivery
from tenure.webhooks.reactions import DELIVER_TASK


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    connection = session.connection()

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _orders(start: int, count: int) -> list[dict]:
    return [
        {
            "type": "order" if i % 2 else "visit",
            "occurred_at": "2026-02-01T12:00:00Z",
            "email": f"p{i}@example.com",
            "amount_minor": 100 if i % 2 else None,
            "currency": "USD" if i % 2 else None,
        }
        for i in range(start, start + count)
    ]


def test_without_subscriptions_only_one_cheap_read_per_transaction(session: Session) -> None:
    with _statements(session) as seen:
        for chunk in range(3):  # three chunks of an import in one transaction
            append_events(session=session, raw_items=_orders(chunk * 50, 50), actor_id=None)
    touching = [s for s in seen if "webhook" in s]
    assert len(touching) == 1 and "FROM webhook_subscriptions" in touching[0]
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_deliveries_and_jobs_are_written_in_the_appending_transaction(session: Session) -> None:
    actions.create_subscription(
        session=session,
        url="https://hooks.example.com/a",
        event_types=["order"],
        actor=None,
        allow_private=False,
    )
    actions.create_subscription(
        session=session,
        url="https://hooks.example.com/b",
        event_types="*",
        actor=None,
        allow_private=False,
    )
    with _statements(session) as seen:
        for chunk in range(2):
            append_events(session=session, raw_items=_orders(chunk * 10, 10), actor_id=None)
    assert sum("FROM webhook_subscriptions" in s for s in seen) == 1
    # 20 events, 10 orders: 10 deliveries to "a" and 20 to "b", each with its job; "b"
    # also gets the stage changes the events led to (appended in bulk by lifecycle)
    stage_changes = session.scalar(
        select(func.count()).select_from(Event).where(Event.type == "stage_changed")
    )
    assert stage_changes
    deliveries = session.scalars(select(WebhookDelivery)).all()
    assert len(deliveries) == 30 + stage_changes
    assert sum(d.event_type == "stage_changed" for d in deliveries) == stage_changes
    jobs = session.scalars(select(Job).where(Job.task == DELIVER_TASK)).all()
    assert {j.id for j in jobs} == {d.job_id for d in deliveries}
    assert {j.idempotency_key for j in jobs} == {f"webhook:{d.webhook_id}" for d in deliveries}
    # Rolled back with the events: no delivery, no job
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert session.scalars(select(Job).where(Job.task == DELIVER_TASK)).all() == []
