"""The segment builder in Chromium: the live count follows typing, errors show inline with
their position, and a saved segment shows its members and its size chart."""

from __future__ import annotations

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

from .conftest import build_world

pytestmark = pytest.mark.browser


def test_builder_live_count(backend, fresh_database_url):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        build_world(session)
        create_user(session=session, email="mk@example.com", role="marketing", password="mk-pass-1")
    engine.dispose()

    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base + "/segments/new", "mk@example.com", "mk-pass-1")
        expect(page).to_have_url(base + "/segments/new")

        count = page.locator("#live-count")
        problem = page.locator("#filter-error")
        box = page.locator("#filter")
        # Typing updates the count (debounced), with a sample of who matches
        box.press_sequentially('tag = "vip"', delay=20)
        expect(count).to_have_text("2 people match")
        expect(page.locator("#sample li")).to_have_count(2)
        # A mistake shows inline with its position and a caret under it
        box.press_sequentially(" and clv >", delay=20)
        expect(problem).to_contain_text("at position 21")
        expect(problem.locator("pre")).to_contain_text("^")
        expect(count).to_have_text("")
        # Fixing it brings the count back
        box.press_sequentially(" 100", delay=20)
        expect(count).to_have_text("1 person matches")
        expect(problem).to_have_text("")

        page.fill("input[name=name]", "Valuable VIPs")
        page.get_by_role("button", name="Create segment").click()
        expect(page.locator("h1")).to_have_text("Valuable VIPs")
        expect(page.locator("#member-count")).to_have_text("1")
        expect(page.locator("#member-table tbody tr")).to_have_count(1)
        page.wait_for_function(
            "window.segmentChart && window.segmentChart.data.labels.length === 1"
        )
        assert errors == []
        browser.close()
