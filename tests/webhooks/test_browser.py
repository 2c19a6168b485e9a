"""In Chromium: an admin adds an endpoint, copies the secret shown once, and the embedded
worker delivers a recorded order to a real receiver that verifies it with that secret."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.identity.actions import create_user
from tenure.timeline.append import append_events
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "root@example.com", "pass-word-1"


def test_an_admin_adds_an_endpoint_and_the_worker_delivers_to_it(
    backend, request, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "sqlite":
        pytest.skip("the embedded default is SQLite; deliveries are tested on both")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # The receiver is on loopback: the served settings must allow it (read from the env)
    monkeypatch.setenv("TENURE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")
    url = request.getfixturevalue("fresh_database_url")
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        create_user(session=session, email=EMAIL, role="admin", password=PASSWORD)
        session.commit()
    with running_server(url, run_jobs=True) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base + "/login", EMAIL, PASSWORD)
        page.goto(base + "/webhooks")
        expect(page.locator("#subscriptions")).to_contain_text("No endpoint yet")

        # When the admin adds the endpoint, the secret is shown once
        page.fill("input[name=url]", receiver.url)
        page.fill("input[name=event_types]", "order")
        page.fill("input[name=description]", "Warehouse")
        page.click("#add-endpoint button[type=submit]")
        secret = page.locator("#secret-value").input_value()
        assert secret.startswith("whsec_")
        page.click("#copy-secret")
        expect(page.locator("#copy-secret")).to_have_text("Copied")
        page.click("#subscriptions a.endpoint")
        expect(page.locator("#secret-value")).to_have_count(0)
        assert secret not in page.content()

        # And an order is recorded
        with make_session_factory(engine)() as session:
            append_events(
                session=session,
                raw_items=[
                    {
                        "type": "order",
                        "occurred_at": "2026-05-01T08:00:00Z",
                        "email": "ada@example.com",
                        "amount_minor": 4500,
                        "currency": "EUR",
                    }
                ],
                actor_id=None,
            )
            session.commit()

        # Then the delivery appears as succeeded, and the receiver verified it
        deadline = time.monotonic() + 60
        delivered = page.locator("#delivery-list li[data-status=succeeded]")
        while delivered.count() == 0:
            assert time.monotonic() < deadline, "the worker did not deliver"
            time.sleep(0.5)
            page.reload()
        (request_,) = receiver.received
        payload = Webhook(secret).verify(request_.body, request_.headers)
        assert payload["data"]["amount_minor"] == 4500
        expect(delivered.first).to_contain_text(request_.headers["webhook-id"])

        # Redeliver from the page: the same webhook-id again
        delivered.first.locator("button", has_text="Redeliver").click()
        deadline = time.monotonic() + 60
        while len(receiver.received) < 2:
            assert time.monotonic() < deadline, "the redelivery was not sent"
            time.sleep(0.2)
        assert receiver.received[1].headers["webhook-id"] == request_.headers["webhook-id"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == []
        browser.close()
    engine.dispose()
