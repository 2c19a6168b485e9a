"""The workflow builder in Chromium: build a workflow, dry-run it and see who would enter,
publish it, then events arrive through the API, the step runner advances, and the
builder's per-step counts move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tenure.automation.runner import advance
from tenure.config import Settings
from tenure.customers.models import ConsentRecord, Identity, Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.messaging.templating.library import seed_library
from tenure.timeline.append import append_events
from tenure.workspace.clock import fix_now
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

TODAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PEOPLE = ("Ada", "Bea", "Cy")


def _world(session) -> list[int]:
    fix_now(session, TODAY)
    seed_library(session)
    create_user(session=session, email="mk@example.com", role="marketing", password="mk-pass-1")
    ids = []
    for name in PEOPLE:
        person = Person(first_name=name, last_name="Shopper", attributes={})
        session.add(person)
        session.flush()
        email = f"{name.lower()}@example.com"
        session.add(
            Identity(
                person_id=person.id,
                kind="email",
                namespace="",
                value=email,
                original=email,
                is_primary=True,
            )
        )
        session.add(
            ConsentRecord(
                person_id=person.id,
                channel="email",
                purpose="marketing",
                status="granted",
                source="test",
                recorded_at=TODAY - timedelta(days=90),
            )
        )
        ids.append(person.id)
    session.flush()
    # Each ordered in the last ten days: the dry run's replay finds all three.
    items = [
        {
            "type": "order",
            "person_id": person_id,
            "occurred_at": (TODAY - timedelta(days=2 + index)).isoformat(),
            "amount_minor": 2500,
            "currency": "USD",
        }
        for index, person_id in enumerate(ids)
    ]
    append_events(session=session, raw_items=items, actor_id=None)
    return ids


def test_build_dry_run_publish_and_watch_the_counts(backend, fresh_database_url):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    engine = create_db_engine(fresh_database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        people = _world(session)
        _, token = create_api_token(session=session, email="mk@example.com", scope="write")

    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base + "/workflows", "mk@example.com", "mk-pass-1")
        page.get_by_role("link", name="New workflow").click()
        page.fill("input[name=name]", "Order thank-you")
        page.get_by_role("button", name="Create workflow").click()
        expect(page.locator("h1")).to_contain_text("Order thank-you")

        # The trigger: an order; a filter mistake is named as the segment builder names it
        page.select_option("#trigger-kind", "event")
        page.fill("input[name=event_type]", "order")
        page.locator("#conditions").press_sequentially("clv >", delay=20)
        expect(page.locator("#conditions-check")).to_contain_text("at character")
        page.fill("#conditions", "")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".wf-trigger")).to_contain_text("When an order event happens")

        # Steps: the starter's wait, then a template sent
        page.select_option("#add-step select[name=kind]", "send_email")
        page.get_by_role("button", name="Add", exact=True).click()
        page.select_option("select[name=template_id]", label="Order follow-up (transactional)")
        page.select_option("select[name=purpose]", "transactional")
        page.get_by_role("button", name="Add step").click()
        steps = page.locator(".wf-steps > li .wf-step-text")
        expect(steps).to_have_text(["1. Wait 1 day", "2. Send 'Order follow-up' (transactional)"])

        # A jump backwards is refused with the field named
        page.get_by_role("link", name="Edit step 1").click()
        expect(page.locator("select[name=next] option")).to_have_count(2)
        page.fill("input[name=days]", "0")
        page.get_by_role("button", name="Save step").click()
        expect(page.locator("#step-error")).to_contain_text("a duration needs days")
        page.fill("input[name=days]", "1")
        page.get_by_role("button", name="Save step").click()

        # The dry run: all three ordered in the last 30 days
        page.get_by_role("button", name="Dry run").click()
        expect(page.locator("#would-enter")).to_have_text("3")
        expect(page.locator("#would-send")).to_have_text("3")
        expect(page.locator("#sample li")).to_have_count(3)
        page.get_by_role("link", name="Builder", exact=True).click()

        page.get_by_role("button", name="Publish").click()
        expect(page.locator("h1 [data-status]")).to_have_text("active")
        expect(page.locator("[data-counts=s1] [data-at]")).to_have_attribute("data-at", "0")

        # Two orders arrive through the API: two people enter and wait at step 1
        answer = httpx.post(
            base + "/api/v1/events",
            headers={"Authorization": f"Bearer {token}"},
            json=[
                {
                    "type": "order",
                    "person_id": person_id,
                    "occurred_at": TODAY.isoformat(),
                    "amount_minor": 1900,
                    "currency": "USD",
                }
                for person_id in people[:2]
            ],
        )
        assert answer.status_code in (200, 201), answer.text
        page.reload()
        expect(page.locator("[data-counts=s1] [data-at]")).to_have_attribute("data-at", "2")
        expect(page.locator("[data-counts=s2] [data-done]")).to_have_attribute("data-done", "0")

        # A day and a half later the runner advances: the wait is over, the email queued
        with unit_of_work(factory) as session:
            fix_now(session, TODAY + timedelta(days=1, hours=12))
        settings = Settings(database_url=fresh_database_url, secret_key="x" * 32)
        advance(factory, settings, budget_seconds=60)
        page.reload()
        expect(page.locator("[data-counts=s1] [data-done]")).to_have_attribute("data-done", "2")
        expect(page.locator("[data-counts=s1] [data-at]")).to_have_attribute("data-at", "0")
        expect(page.locator("[data-counts=s2] [data-done]")).to_have_attribute("data-done", "2")

        # The people tab lists them; the report counts the funnel
        page.locator("#workflow-tabs").get_by_role("link", name="People").click()
        page.select_option("select[name=state]", "all")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#enrolments tbody tr")).to_have_count(2)
        assert errors == []
        browser.close()
    engine.dispose()
