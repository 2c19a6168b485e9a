"""Destructive actions ask first: nothing is deleted until the confirm button is pressed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.lifecycle.models import LifecycleStage
from tenure.segments.models import Segment
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.web.world import PASSWORD, World, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[tuple[str, World]]:
    engine = create_db_engine(fresh_database_url)
    built = build_world(make_session_factory(engine))
    engine.dispose()
    yield fresh_database_url, built


def _exists(url: str, model, *where) -> bool:
    engine = create_db_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(model.id).where(*where)) is not None
    finally:
        engine.dispose()


def test_delete_a_segment_and_a_stage_through_their_confirm_step(world):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url, built = world
    with running_server(url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        log_in(page, f"{base}/segments/{built.segment_id}", "admin@example.com", PASSWORD)

        confirm = page.locator("#delete-segment")
        expect(confirm.get_by_role("button", name="Delete segment")).to_be_hidden()
        confirm.locator("summary").click()
        expect(confirm).to_contain_text("Delete the segment Hand-picked list and its history?")
        assert _exists(url, Segment, Segment.name == "Hand-picked list")
        confirm.get_by_role("button", name="Delete segment").click()
        expect(page).to_have_url(base + "/segments")
        assert not _exists(url, Segment, Segment.name == "Hand-picked list")

        # A new, unused stage: added, then deleted through its confirm step.
        page.goto(base + "/lifecycle/settings")
        page.fill("input[name=key][aria-label='New stage key']", "trial")
        page.fill("input[name=name][aria-label='New stage name']", "Trial")
        page.get_by_role("button", name="Add stage").click()
        assert _exists(url, LifecycleStage, LifecycleStage.key == "trial")
        stage = page.locator("#delete-stage-trial")
        stage.locator("summary").click()
        expect(stage).to_contain_text("Delete the stage Trial?")
        stage.get_by_role("button", name="Delete stage").click()
        expect(page.locator("#delete-stage-trial")).to_have_count(0)
        assert not _exists(url, LifecycleStage, LifecycleStage.key == "trial")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
