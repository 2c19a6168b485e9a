"""The webhooks API: admins only, 4xx naming the field, the secret shown once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.identity.models import AuditEntry
from tenure.jobs.models import Job
from tenure.webhooks.models import WebhookDelivery
from tenure.webhooks.reactions import DELIVER_TASK

BASE = "/api/v1/webhooks"


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_admins_create_list_edit_and_delete_subscriptions(session: Session, client, api_user):
    admin = api_user("admin")
    created = client.post(
        f"{BASE}/subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["order", "visit"]},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["event_types"] == ["order", "visit"] and body["enabled"] is True
    subscription_id = body["id"]
    # The secret is never shown again
    listed = client.get(f"{BASE}/subscriptions", headers=admin.headers).json()["items"]
    mine = next(s for s in listed if s["id"] == subscription_id)
    assert "secret" not in mine and mine["secret_hint"] == body["secret"][:10] + "…"
    fetched = client.get(f"{BASE}/subscriptions/{subscription_id}", headers=admin.headers)
    assert "secret" not in fetched.json()
    # Edit: every event type, disabled, then enabled again
    changed = client.patch(
        f"{BASE}/subscriptions/{subscription_id}",
        json={"event_types": ["*"], "enabled": False, "description": "CRM sync"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["enabled"]) == (["*"], False)
    again = client.patch(
        f"{BASE}/subscriptions/{subscription_id}", json={"enabled": True}, headers=admin.headers
    )
    assert again.json()["enabled"] is True
    actions = session.scalars(
        select(AuditEntry.action)
        .where(
            AuditEntry.entity_type == "webhook_subscription",
            AuditEntry.entity_id == str(subscription_id),
        )
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update", "update"]
    # Delete
    gone = client.delete(f"{BASE}/subscriptions/{subscription_id}", headers=admin.headers)
    assert gone.status_code == 204
    missing = client.get(f"{BASE}/subscriptions/{subscription_id}", headers=admin.headers)
    assert missing.status_code == 404


def test_bad_input_is_a_422_naming_the_field(client, api_user):
    admin = api_user("admin")
    cases = [
        ({"url": "ftp://example.com/x", "event_types": ["order"]}, "url"),
        ({"url": "example.com/hook", "event_types": ["order"]}, "url"),
        ({"url": "https://", "event_types": ["order"]}, "url"),
        ({"url": "https://example.com:99999/", "event_types": ["order"]}, "url"),
        ({"url": "https://example.com/hook", "event_types": []}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": ["*", "order"]}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": ["Order Placed"]}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": "order"}, "event_types"),
        ({"url": "https://example.com/hook", "event_types": ["order"], "secret": "x"}, "secret"),
        (
            {"url": "https://example.com/hook", "event_types": ["order"], "enabled": "yes"},
            "enabled",
        ),
    ]
    for payload, field in cases:
        response = client.post(f"{BASE}/subscriptions", json=payload, headers=admin.headers)
        assert response.status_code == 422, (payload, response.text)
        assert field in _fields(response), (payload, response.json())
    assert client.get(f"{BASE}/deliveries/99999999", headers=admin.headers).status_code == 404
    too_big = client.get(f"{BASE}/deliveries/{2**63}", headers=admin.headers)
    assert too_big.status_code == 422


def test_only_admins_see_or_change_webhooks(client, api_user):
    admin, manager, analyst = api_user("admin"), api_user("manager"), api_user("analyst")
    created = client.post(
        f"{BASE}/subscriptions",
        json={"url": "https://example.com/hook", "event_types": ["order"]},
        headers=admin.headers,
    ).json()
    for user in (manager, analyst):
        assert client.get(f"{BASE}/subscriptions", headers=user.headers).status_code == 403
        response = client.post(
            f"{BASE}/subscriptions",
            json={"url": "https://example.com/x", "event_types": ["order"]},
            headers=user.headers,
        )
        assert response.status_code == 403
        deliveries = client.get(
            f"{BASE}/subscriptions/{created['id']}/deliveries", headers=user.headers
        )
        assert deliveries.status_code == 403


def test_an_event_posted_to_the_api_queues_a_delivery_that_can_be_redelivered(
    session: Session, client, api_user
):
    admin = api_user("admin")
    subscription = client.post(
        f"{BASE}/subscriptions",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["order"]},
        headers=admin.headers,
    ).json()
    posted = client.post(
        "/api/v1/events",
        json=[
            {
                "type": "order",
                "occurred_at": "2026-01-05T09:30:00Z",
                "email": "grace@example.com",
                "amount_minor": 4200,
                "currency": "EUR",
            },
            {"type": "visit", "occurred_at": "2026-01-05T09:31:00Z", "email": "grace@example.com"},
        ],
        headers=admin.headers,
    )
    assert posted.status_code in (200, 201, 207), posted.text
    # One delivery (the order; visits are not subscribed), its job queued in the same commit
    page = client.get(
        f"{BASE}/subscriptions/{subscription['id']}/deliveries", headers=admin.headers
    ).json()
    (item,) = page["items"]
    assert (item["event_type"], item["status"], item["attempts"]) == ("order", "pending", 0)
    assert page["next_cursor"] is None
    delivery = session.get(WebhookDelivery, item["id"])
    assert delivery is not None
    job = session.get(Job, delivery.job_id)
    assert job is not None and job.task == DELIVER_TASK
    assert job.payload == {"webhook_id": delivery.webhook_id}
    detail = client.get(f"{BASE}/deliveries/{item['id']}", headers=admin.headers).json()
    assert '"amount_minor":4200' in detail["body"] and detail["attempt_log"] == []
    # Filtered by status
    failed = client.get(
        f"{BASE}/subscriptions/{subscription['id']}/deliveries?status=failed",
        headers=admin.headers,
    )
    assert failed.json()["items"] == []
    bad = client.get(
        f"{BASE}/subscriptions/{subscription['id']}/deliveries?status=lost",
        headers=admin.headers,
    )
    assert bad.status_code == 422 and _fields(bad) == ["status"]
    # Redeliver: a new one-attempt job for the same webhook-id
    again = client.post(f"{BASE}/deliveries/{item['id']}/redeliver", headers=admin.headers)
    assert again.status_code == 202, again.text
    assert again.json()["redeliveries"] == 1
    session.expire_all()
    redelivery = session.get(Job, session.get(WebhookDelivery, item["id"]).job_id)
    assert redelivery is not None and redelivery.max_attempts == 1
    assert redelivery.payload == {"webhook_id": delivery.webhook_id, "manual": True}
    # A disabled endpoint is not redelivered to: 409
    client.patch(
        f"{BASE}/subscriptions/{subscription['id']}", json={"enabled": False}, headers=admin.headers
    )
    refused = client.post(f"{BASE}/deliveries/{item['id']}/redeliver", headers=admin.headers)
    assert refused.status_code == 409
