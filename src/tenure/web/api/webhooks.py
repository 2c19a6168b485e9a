"""Webhook subscriptions and their delivery log (admins): CRUD, deliveries, redeliver."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from tenure.errors import NotFound
from tenure.identity.permissions import WEBHOOK_ADMINS, require_role
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep, SettingsDep
from tenure.webhooks import actions, queries
from tenure.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

DeliveryStatusParam = Literal["pending", "succeeded", "failed", "skipped"]


@router.get("/subscriptions")
def list_subscriptions(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Every subscription with its delivery counts by status (the secret only as a hint)."""
    require_role(actor, WEBHOOK_ADMINS)
    counts = queries.delivery_counts(session)
    return {
        "items": [
            queries.subscription_dict(s, counts.get(s.id))
            for s in queries.list_subscriptions(session)
        ]
    }


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(
    body: SubscriptionCreate, session: SessionDep, actor: ApiWriter, settings: SettingsDep
) -> dict[str, Any]:
    """Subscribe a URL. The answer holds the signing ``secret`` (``whsec_...``): the only
    time it is shown."""
    created = actions.create_subscription(
        session=session,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
        actor=actor,
        allow_private=settings.webhook_allow_private_addresses,
    )
    return {**queries.subscription_dict(created.subscription), "secret": created.secret}


def _found(session: SessionDep, subscription_id: int) -> Any:
    subscription = queries.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    subscription_id: RowId, session: SessionDep, actor: ApiActor
) -> dict[str, Any]:
    require_role(actor, WEBHOOK_ADMINS)
    subscription = _found(session, subscription_id)
    return queries.subscription_dict(
        subscription, queries.delivery_counts(session).get(subscription.id)
    )


@router.patch("/subscriptions/{subscription_id}")
def update_subscription(
    subscription_id: RowId,
    body: SubscriptionUpdate,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Change the URL, event types, description; ``enabled: true`` re-enables an endpoint
    that was disabled for failing (its count of failures starts again)."""
    subscription = actions.update_subscription(
        session=session,
        subscription_id=subscription_id,
        actor=actor,
        allow_private=settings.webhook_allow_private_addresses,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
    )
    return queries.subscription_dict(subscription)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    """Delete a subscription and its delivery log."""
    actions.delete_subscription(session=session, subscription_id=subscription_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/subscriptions/{subscription_id}/deliveries")
def list_deliveries(
    subscription_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    status: Annotated[
        DeliveryStatusParam | None, Query(description="Only deliveries in this status.")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    """Deliveries newest first: status, attempts, last status code and error, next retry."""
    require_role(actor, WEBHOOK_ADMINS)
    _found(session, subscription_id)
    before = int(cursor) if cursor and cursor.isdigit() and len(cursor) < 19 else None
    items = queries.list_deliveries(
        session,
        subscription_id=subscription_id,
        status=status,
        before_id=before,
        limit=limit + 1,
    )
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if more and items else None}


@router.get("/deliveries/{delivery_id}")
def get_delivery(delivery_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """One delivery with the body sent and every attempt (status code, response excerpt,
    duration, error)."""
    require_role(actor, WEBHOOK_ADMINS)
    found = queries.get_delivery(session, delivery_id)
    if found is None:
        raise NotFound("webhook delivery", delivery_id)
    return found


@router.post("/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
def redeliver(delivery_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """Send the delivery again (same ``webhook-id``, same body), one attempt, now; 409 when
    its endpoint is disabled."""
    delivery = actions.redeliver(session=session, delivery_id=delivery_id, actor=actor)
    found = queries.get_delivery(session, delivery.id)
    assert found is not None
    return found
