"""What an admin does with webhooks, from the pages, the API or a script: create, edit,
re-enable and delete subscriptions; redeliver a delivery.

Each checks the actor (``WEBHOOK_ADMINS``), audits and commits its own work;
``actor=None`` is the operator at the command line.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import audit_changed, audit_created, audit_deleted, record_audit
from tenure.identity.permissions import WEBHOOK_ADMINS, Actor, authorize
from tenure.jobs import PRIORITY_TRANSACTIONAL, enqueue
from tenure.webhooks.models import (
    ALL_EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
    subscription_fields,
)
from tenure.webhooks.reactions import DELIVER_TASK, forget_subscriptions
from tenure.webhooks.urls import check_url

# The timeline's own rule for event type names (timeline.schemas).
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,49}$")
MAX_EVENT_TYPES = 100
MAX_DESCRIPTION_CHARS = 1000


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_event_types(values: Iterable[str] | str) -> list[str]:
    """Event type names (a list, or text separated by commas or spaces), or ``["*"]``."""
    if isinstance(values, str):
        values = re.split(r"[\s,]+", values)
    names: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput("event_types", "must be a list of event type names")
        name = value.strip()
        if name and name not in names:
            names.append(name)
    if not names:
        raise InvalidInput("event_types", "name at least one event type, or * for every type")
    if ALL_EVENTS in names:
        if len(names) > 1:
            raise InvalidInput("event_types", "* means every event type: give it alone")
        return [ALL_EVENTS]
    if len(names) > MAX_EVENT_TYPES:
        raise InvalidInput("event_types", f"at most {MAX_EVENT_TYPES} event types")
    for name in names:
        if not _EVENT_TYPE.match(name):
            raise InvalidInput(
                "event_types",
                f"{name[:60]!r} is not an event type name (lower-case letters, digits, "
                "_ and ., starting with a letter, up to 50 characters)",
            )
    return names


def _description(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput("description", f"is longer than {MAX_DESCRIPTION_CHARS} characters")
    if "\x00" in value:
        raise InvalidInput("description", "must not contain NUL (\\u0000) characters")
    return value


@dataclass(frozen=True)
class Created:
    subscription: WebhookSubscription
    #: Shown once, to whoever created the subscription; never again by the pages or API.
    secret: str


def create_subscription(
    *,
    session: Session,
    url: str,
    event_types: Iterable[str] | str,
    description: str | None = None,
    enabled: bool = True,
    actor: Actor | None,
    allow_private: bool,
) -> Created:
    """Subscribe ``url`` to ``event_types``; committed. The secret is in the answer only."""
    actor_id = authorize(actor, WEBHOOK_ADMINS)
    subscription = WebhookSubscription(
        url=check_url(url, allow_private=allow_private),
        event_types=parse_event_types(event_types),
        description=_description(description),
        secret=new_secret(),
        enabled=enabled,
        consecutive_failures=0,
        created_by_id=actor_id,
    )
    session.add(subscription)
    session.flush()
    audit_created(
        session=session,
        actor_id=actor_id,
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        fields=subscription_fields(subscription),
    )
    forget_subscriptions(session)
    session.commit()
    return Created(subscription, subscription.secret)


def _subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


def update_subscription(
    *,
    session: Session,
    subscription_id: int,
    actor: Actor | None,
    allow_private: bool,
    url: str | None = None,
    event_types: Iterable[str] | str | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookSubscription:
    """Change what is given; ``enabled=True`` re-enables a disabled endpoint (its run of
    failures starts again from zero). Committed and audited."""
    actor_id = authorize(actor, WEBHOOK_ADMINS)
    subscription = _subscription(session, subscription_id)
    before = subscription_fields(subscription)
    if url is not None:
        subscription.url = check_url(url, allow_private=allow_private)
    if event_types is not None:
        subscription.event_types = parse_event_types(event_types)
    if description is not None:
        subscription.description = _description(description)
    if enabled is not None and enabled != subscription.enabled:
        subscription.enabled = enabled
        subscription.consecutive_failures = 0
        subscription.disabled_reason = None
        subscription.disabled_at = None if enabled else utcnow()
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        before=before,
        after=subscription_fields(subscription),
    )
    forget_subscriptions(session)
    session.commit()
    return subscription


def enable_subscription(
    *, session: Session, subscription_id: int, actor: Actor | None
) -> WebhookSubscription:
    """Re-enable an endpoint (after it was disabled for failing); committed."""
    return update_subscription(
        session=session,
        subscription_id=subscription_id,
        actor=actor,
        allow_private=True,  # the URL is not changed
        enabled=True,
    )


def delete_subscription(*, session: Session, subscription_id: int, actor: Actor | None) -> None:
    """Delete a subscription with its delivery log; its queued jobs find nothing and end."""
    actor_id = authorize(actor, WEBHOOK_ADMINS)
    subscription = _subscription(session, subscription_id)
    audit_deleted(
        session=session,
        actor_id=actor_id,
        entity_type="webhook_subscription",
        entity_id=subscription.id,
        fields=subscription_fields(subscription),
    )
    session.delete(subscription)
    forget_subscriptions(session)
    session.commit()


def redeliver(*, session: Session, delivery_id: int, actor: Actor | None) -> WebhookDelivery:
    """Send a delivery again now: a new attempt with the same ``webhook-id`` and body (the
    receiver recognises the message). One attempt, at transactional priority: an admin is
    waiting for the answer. Committed."""
    actor_id = authorize(actor, WEBHOOK_ADMINS)
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        raise NotFound("webhook delivery", delivery_id)
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.enabled:
        raise Conflict(
            "the endpoint is disabled: re-enable it before redelivering", field="delivery_id"
        )
    delivery.redeliveries += 1
    before = delivery.status
    delivery.status = DeliveryStatus.pending.value
    delivery.job_id = enqueue(
        session=session,
        task=DELIVER_TASK,
        payload={"webhook_id": delivery.webhook_id, "manual": True},
        idempotency_key=f"webhook:{delivery.webhook_id}:redelivery:{delivery.redeliveries}",
        priority=PRIORITY_TRANSACTIONAL,
        max_attempts=1,
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="redeliver",
        entity_type="webhook_delivery",
        entity_id=delivery.id,
        changes={"status": {"before": before, "after": delivery.status}},
    )
    session.commit()
    return delivery
