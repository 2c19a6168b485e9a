"""The webhooks pages: an admin adds an endpoint (the secret shown once), sees its
deliveries, redelivers, and re-enables a disabled one; others do not see them."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.timeline.append import append_events
from tenure.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.pages import csrf_token, log_in_as


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, session: Session):
    log_in_as(client, session, "admin")
    page = client.get("/webhooks")
    assert page.status_code == 200 and 'href="/webhooks"' in page.text
    token = csrf_token(page.text)
    # A bad URL is refused on the form, naming the field, keeping what was typed
    refused = client.post(
        "/webhooks",
        data={"csrf_token": token, "url": "ftp://x.example", "event_types": "order"},
    )
    assert refused.status_code == 422
    assert 'id="form-error"' in refused.text and "url: must be an http" in refused.text
    assert 'value="ftp://x.example"' in refused.text
    created = client.post(
        "/webhooks",
        data={
            "csrf_token": token,
            "url": "http://127.0.0.1:9/hooks",
            "event_types": "order, visit",
            "description": "Warehouse",
        },
    )
    assert created.status_code == 201
    secret = re.search(r'id="secret-value" value="(whsec_[^"]+)"', created.text)
    assert secret is not None
    subscription = session.scalars(select(WebhookSubscription)).one()
    assert subscription.secret == secret.group(1)
    assert subscription.event_types == ["order", "visit"]
    # Never shown again
    assert secret.group(1) not in client.get("/webhooks").text
    detail = client.get(f"/webhooks/{subscription.id}")
    assert detail.status_code == 200 and secret.group(1) not in detail.text
    assert "No delivery" in detail.text


def test_deliveries_redeliver_and_the_disabled_notice(client, session: Session):
    log_in_as(client, session, "admin")
    token = csrf_token(client.get("/webhooks").text)
    client.post(
        "/webhooks",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/h", "event_types": "visit"},
    )
    subscription = session.scalars(select(WebhookSubscription)).one()
    append_events(
        session=session,
        raw_items=[{"type": "visit", "occurred_at": "2026-01-02T03:04:05Z", "email": "z@ex.com"}],
        actor_id=None,
    )
    session.commit()
    delivery = session.scalars(select(WebhookDelivery)).one()
    page = client.get(f"/webhooks/{subscription.id}")
    assert f'id="delivery-{delivery.id}"' in page.text and delivery.webhook_id in page.text
    assert "Redeliver" in page.text
    again = client.post(
        f"/webhooks/deliveries/{delivery.id}/redeliver",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    session.refresh(delivery)
    assert delivery.redeliveries == 1
    # Disabled (as after repeated failures): the notice, no Redeliver, a Re-enable button
    subscription.enabled = False
    subscription.disabled_reason = (
        "Disabled after 10 deliveries in a row failed; the last: HTTP 500."
    )
    session.commit()
    page = client.get(f"/webhooks/{subscription.id}")
    assert 'id="disabled-notice"' in page.text and "HTTP 500" in page.text
    assert "Redeliver" not in page.text and 'id="reenable"' in page.text
    listed = client.get("/webhooks")
    assert "disabled" in listed.text and "HTTP 500" in listed.text
    client.post(f"/webhooks/{subscription.id}/enable", data={"csrf_token": token})
    session.refresh(subscription)
    assert subscription.enabled and subscription.disabled_reason is None
    # Edit with a bad event type: 422 on the page, nothing changed
    bad = client.post(
        f"/webhooks/{subscription.id}",
        data={"csrf_token": token, "url": "http://127.0.0.1:9/h", "event_types": "Bad Type"},
    )
    assert bad.status_code == 422 and "event_types:" in bad.text
    session.refresh(subscription)
    assert subscription.event_types == ["visit"]
    # Delete
    client.post(f"/webhooks/{subscription.id}/delete", data={"csrf_token": token})
    assert session.scalars(select(WebhookSubscription)).all() == []


def test_other_roles_neither_see_the_nav_item_nor_the_page(client, session: Session):
    log_in_as(client, session, "analyst")
    people = client.get("/people")
    assert 'href="/webhooks"' not in people.text
    assert client.get("/webhooks").status_code == 403
