"""Deliveries end to end on both databases: events appended through the timeline, the
worker POSTs to a real receiver on loopback, the receiver verifies the Standard Webhooks
signature with the spec's reference library."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from tenure.config import Settings
from tenure.db.session import make_session_factory
from tenure.db.types import utcnow
from tenure.identity.models import AuditEntry
from tenure.jobs.models import Job
from tenure.jobs.worker import Worker
from tenure.timeline.append import append_events
from tenure.webhooks import actions
from tenure.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tenure.webhooks.reactions import DELIVER_TASK
from tests.webhooks.receiver import Receiver


def _subscribe(engine: Engine, url: str, types: list[str] | str) -> tuple[int, str]:
    with make_session_factory(engine)() as session:
        created = actions.create_subscription(
            session=session, url=url, event_types=types, actor=None, allow_private=True
        )
        return created.subscription.id, created.secret


def _append(engine: Engine, *types: str, email: str = "ada@example.com") -> list[int]:
    with make_session_factory(engine)() as session:
        result = append_events(
            session=session,
            raw_items=[
                {
                    "type": type_,
                    "occurred_at": f"2026-03-0{i + 1}T10:00:00Z",
                    "email": email,
                    "amount_minor": 1999 if type_ == "order" else None,
                    "currency": "USD" if type_ == "order" else None,
                    "client_event_id": f"{type_}-{i}-{email}",
                    "payload": {"note": "ünïcode"},
                }
                for i, type_ in enumerate(types)
            ],
            actor_id=None,
        )
        session.commit()
        return list(result.stored_ids)


def _drain(engine: Engine, settings: Settings) -> None:
    Worker(engine=engine, settings=settings, concurrency=1, poll_seconds=0.05).run(until_empty=True)


def _deliveries(engine: Engine) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _attempts(engine: Engine, delivery_id: int) -> list[tuple[int | None, str, bool]]:
    with Session(engine) as session:
        rows = session.execute(
            select(WebhookAttempt.status_code, WebhookAttempt.outcome, WebhookAttempt.manual)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _make_retries_due(engine: Engine) -> None:
    """Skip the runner's backoff (seconds to minutes) the way tests/jobs does."""
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.state == "queued").values(run_at=utcnow() - timedelta(seconds=1))
        )


def _subscription(engine: Engine, subscription_id: int) -> WebhookSubscription:
    with Session(engine) as session:
        found = session.get(WebhookSubscription, subscription_id)
        assert found is not None
        return found


def test_an_event_is_posted_signed_and_the_receiver_verifies_it(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    # Given a subscription to orders and another to signups only
    _, secret = _subscribe(hook_engine, receiver.url, ["order"])
    _subscribe(hook_engine, receiver.url + "?other", "signup")
    # When an order is appended and the worker runs
    (event_id,) = _append(hook_engine, "order")
    _drain(hook_engine, hook_settings)
    # Then the receiver got one POST, whose signature verifies with the secret
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/hooks"
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "order"
    assert payload["timestamp"] == "2026-03-01T10:00:00Z"
    data = payload["data"]
    assert (data["event_id"], data["amount_minor"], data["currency"]) == (event_id, 1999, "USD")
    assert data["person_id"] > 0 and data["payload"] == {"note": "ünïcode"}
    (delivery,) = _deliveries(hook_engine)
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert delivery.webhook_id.startswith("msg_")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert _attempts(hook_engine, delivery.id) == [(200, "succeeded", False)]
    # A wrong secret does not verify
    other = actions.new_secret()
    try:
        Webhook(other).verify(request.body, request.headers)
    except Exception as error:
        assert "signature" in str(error).lower()
    else:
        raise AssertionError("a wrong secret verified")


def test_a_500_is_retried_after_the_backoff_with_the_same_webhook_id(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    # (Visits only: "*" would also get the stage change the visit's new person leads to)
    _, secret = _subscribe(hook_engine, receiver.url, ["visit"])
    receiver.answer(500, 429, then=200)
    _append(hook_engine, "visit")
    _drain(hook_engine, hook_settings)
    # After the 500: pending, the job back in the queue after a backoff
    (delivery,) = _deliveries(hook_engine)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    with Session(hook_engine) as session:
        job = session.scalars(select(Job).where(Job.task == DELIVER_TASK)).one()
    assert job.state == "queued" and job.run_at > utcnow() + timedelta(seconds=1)
    assert job.error is not None and "HTTP 500" in job.error
    # When the backoff has passed twice (a 429, then a 200)
    _make_retries_due(hook_engine)
    _drain(hook_engine, hook_settings)
    _make_retries_due(hook_engine)
    _drain(hook_engine, hook_settings)
    # Then three POSTs of the same message: one webhook-id, one body, each signed
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.webhook_id}
    assert len({r.body for r in receiver.received}) == 1
    for request in receiver.received:
        Webhook(secret).verify(request.body, request.headers)
    (delivery,) = _deliveries(hook_engine)
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert _attempts(hook_engine, delivery.id) == [
        (500, "retry", False),
        (429, "retry", False),
        (200, "succeeded", False),
    ]


def test_a_4xx_is_a_permanent_failure_and_out_of_retries_is_too(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    subscription_id, _ = _subscribe(hook_engine, receiver.url, ["order", "visit"])
    receiver.answer(400, then=503)
    _append(hook_engine, "order", "visit")
    # The job of the second allows 2 attempts only (as if its retries had run out)
    with hook_engine.begin() as connection:
        connection.execute(update(Job).where(Job.task == DELIVER_TASK).values(max_attempts=2))
    _drain(hook_engine, hook_settings)
    _make_retries_due(hook_engine)
    _drain(hook_engine, hook_settings)
    refused, unavailable = _deliveries(hook_engine)
    assert (refused.status, refused.attempts, refused.last_status_code) == ("failed", 1, 400)
    assert _attempts(hook_engine, refused.id) == [(400, "failed", False)]
    assert unavailable.status == "failed"
    assert _attempts(hook_engine, unavailable.id) == [(503, "retry", False), (503, "failed", False)]
    # Two failed deliveries in a row: at the setting (2) the endpoint is disabled
    subscription = _subscription(hook_engine, subscription_id)
    assert subscription.consecutive_failures == 2
    assert subscription.enabled is False


def test_an_endpoint_failing_repeatedly_is_disabled_with_a_notice_then_reenabled(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    subscription_id, secret = _subscribe(hook_engine, receiver.url, ["order"])
    receiver.answer(then=410)
    _append(hook_engine, "order", "order", "order")
    _drain(hook_engine, hook_settings)
    # Two failed deliveries (the setting): disabled; the third was not attempted
    first, second, third = _deliveries(hook_engine)
    assert [d.status for d in (first, second, third)] == ["failed", "failed", "skipped"]
    assert len(receiver.received) == 2
    subscription = _subscription(hook_engine, subscription_id)
    assert subscription.enabled is False
    assert subscription.disabled_reason is not None and "HTTP 410" in subscription.disabled_reason
    with Session(hook_engine) as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "webhook_subscription")
        ).all()
    assert [(a.action, a.entity_id) for a in audit] == [
        ("create", str(subscription_id)),
        ("disable", str(subscription_id)),
    ]
    # Events appended while disabled make no deliveries
    _append(hook_engine, "order", email="bob@example.com")
    assert len(_deliveries(hook_engine)) == 3
    # A disabled endpoint is not redelivered to
    with make_session_factory(hook_engine)() as session:
        try:
            actions.redeliver(session=session, delivery_id=third.id, actor=None)
        except Exception as error:
            assert "disabled" in str(error)
        else:
            raise AssertionError("redelivered to a disabled endpoint")
    # When an admin re-enables it and redelivers the skipped one
    with make_session_factory(hook_engine)() as session:
        actions.enable_subscription(session=session, subscription_id=subscription_id, actor=None)
        actions.redeliver(session=session, delivery_id=third.id, actor=None)
    receiver.answer(then=200)
    _drain(hook_engine, hook_settings)
    subscription = _subscription(hook_engine, subscription_id)
    assert (subscription.enabled, subscription.consecutive_failures) == (True, 0)
    assert subscription.disabled_reason is None
    third = _deliveries(hook_engine)[2]
    assert (third.status, third.redeliveries) == ("succeeded", 1)
    assert _attempts(hook_engine, third.id) == [(200, "succeeded", True)]
    assert receiver.received[-1].headers["webhook-id"] == third.webhook_id
    Webhook(secret).verify(receiver.received[-1].body, receiver.received[-1].headers)


def test_redelivery_sends_the_same_message_again(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    _, secret = _subscribe(hook_engine, receiver.url, ["order"])
    _append(hook_engine, "order")
    _drain(hook_engine, hook_settings)
    (delivery,) = _deliveries(hook_engine)
    with make_session_factory(hook_engine)() as session:
        actions.redeliver(session=session, delivery_id=delivery.id, actor=None)
    _drain(hook_engine, hook_settings)
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.webhook_id
    assert first.body == again.body
    assert json.loads(again.body) == Webhook(secret).verify(again.body, again.headers)
    assert _attempts(hook_engine, delivery.id) == [
        (200, "succeeded", False),
        (200, "succeeded", True),
    ]
    with Session(hook_engine) as session:
        jobs = session.scalars(select(Job).where(Job.task == DELIVER_TASK).order_by(Job.id)).all()
    assert [(j.state, j.max_attempts) for j in jobs] == [("succeeded", 16), ("succeeded", 1)]


def test_a_network_error_is_retried_and_nothing_is_sent_without_subscriptions(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    # No subscription: appending makes no delivery and no job
    _append(hook_engine, "order")
    assert _deliveries(hook_engine) == []
    with Session(hook_engine) as session:
        assert session.scalars(select(Job).where(Job.task == DELIVER_TASK)).all() == []
    # A closed port: a connection error, retried
    receiver.server.shutdown()
    receiver.server.server_close()
    _subscribe(hook_engine, receiver.url, ["order"])
    _append(hook_engine, "order", email="bob@example.com")
    _drain(hook_engine, hook_settings)
    (delivery,) = _deliveries(hook_engine)
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error is not None and "ConnectError" in delivery.last_error
