"""Editing an email template in Chromium: the live preview follows the typing with a real
person's data, a mistake shows its line, saving makes version 2, and the history keeps
version 1; an analyst reads and previews without a save button."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.messaging.templating import queries
from tenure.messaging.templating.actions import create_template
from tenure.messaging.templating.models import TemplatePurpose
from tenure.timeline.append import append_events
from tenure.workspace.clock import fix_now
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

PASSWORD = "templates-password-1"
WIDER_THAN_VIEWPORT = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""


@pytest.fixture
def shop(fresh_database_url: str) -> Iterator[dict]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        fix_now(session, datetime(2026, 3, 10, tzinfo=UTC))
        for role in ("marketing", "analyst"):
            create_user(session=session, email=f"{role}@example.com", role=role, password=PASSWORD)
        person = create_person(
            session=session,
            data=PersonCreate(
                first_name="Hedy",
                last_name="Lamarr",
                identities=[{"kind": "email", "value": "hedy@example.com"}],
            ),
            actor_id=None,
            default_region="US",
        )
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "occurred_at": "2026-02-03T15:04:00Z",
                    "person_id": person.id,
                    "amount_minor": 3990,
                    "currency": "USD",
                    "items": [{"category": "Radio", "unit_price_minor": 3990}],
                }
            ],
            actor_id=None,
        )
        template, _ = create_template(
            session=session,
            actor=None,
            name="Spring note",
            purpose=TemplatePurpose.marketing,
            subject="Spring news",
            html="<p>Hello friend</p>",
        )
        ids = {"person": person.id, "template": template.id}
    yield {"url": fresh_database_url, "engine": engine, **ids}
    engine.dispose()


def _log_in(page, base: str, path: str, role: str) -> None:
    log_in(page, base + path, f"{role}@example.com", PASSWORD)


def _narrow(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name}: {width}px at 390px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_edit_with_live_preview_then_save_version_2(shop, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("TENURE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    path = f"/templates/{shop['template']}"
    with running_server(shop["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, path, "marketing")
        expect(page).to_have_url(base + path)
        expect(page.locator("#version-label")).to_contain_text("Version 1")

        # The preview opens with the person who ordered last: Hedy
        frame = page.frame_locator("#preview-frame")
        expect(page.locator("#person-label")).to_contain_text("Hedy Lamarr")
        expect(frame.locator("body")).to_contain_text("Hello friend")

        # Typing her fields: the preview follows with her data
        page.fill(
            "#html",
            "<style>.n { color: #aa0000 }</style>\n<p class='n'>Hello {{ person.first_name }},</p>"
            "\n<p>your {{ last_order.total|money }} order</p>",
        )
        expect(frame.locator("p.n")).to_have_text("Hello Hedy,")
        expect(frame.locator("body")).to_contain_text("your $39.90 order")
        # ... with the CSS inlined, as a mail client will get it
        expect(frame.locator("p.n")).to_have_attribute("style", "color: #aa0000;")
        page.fill("#subject", "Spring news for {{ person.name }}")
        expect(page.locator("#preview-subject")).to_have_text("Spring news for Hedy Lamarr")
        page.get_by_role("button", name="Plain text").click()
        expect(page.locator("#preview-text")).to_contain_text("Hello Hedy,")
        page.get_by_role("button", name="HTML").click()

        # A typo shows its line, and the preview comes back once fixed
        page.fill("#html", "<p>Hello</p>\n<p>{{ person.frist_name }}</p>")
        expect(page.locator("#preview-problems")).to_contain_text(
            "html, line 2: unknown field person.frist_name (did you mean first_name or last_name?)"
        )
        page.fill("#html", "<p>Hello {{ person.first_name }}, spring is here.</p>")
        expect(frame.locator("body")).to_contain_text("Hello Hedy, spring is here.")
        expect(page.locator("#preview-problems")).to_be_hidden()

        # Saving makes version 2
        page.get_by_role("button", name="Save new version").click()
        expect(page.locator("#saved")).to_have_text("Saved as version 2.")
        expect(page.locator("#version-label")).to_contain_text("Version 2")
        _narrow(page, shots, "template-editor")

        # The history keeps version 1
        page.get_by_role("link", name="History").click()
        expect(page.locator("#versions li")).to_have_count(2)
        page.get_by_role("link", name="Version 1").click()
        expect(page.locator("#version pre")).to_have_text("<p>Hello friend</p>")
        _narrow(page, shots, "template-history")
        page.get_by_role("button", name="Log out").click()

        # The analyst reads and previews, without a save button
        _log_in(page, base, path, "analyst")
        expect(page.locator("#read-only")).to_be_visible()
        expect(frame.locator("body")).to_contain_text("Hello Hedy, spring is here.")
        expect(page.get_by_role("button", name="Save new version")).to_have_count(0)
        page.goto(base + "/templates")
        expect(page.locator("#templates")).to_contain_text("Spring note")
        expect(page.get_by_role("link", name="New template")).to_have_count(0)
        _narrow(page, shots, "templates-analyst")
        browser.close()
        assert errors == []

    with unit_of_work(make_session_factory(shop["engine"])) as session:
        versions = queries.list_versions(session, shop["template"])
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["subject"] == "Spring news for {{ person.name }}"
    assert versions[0]["created_by"] == "marketing@example.com"
