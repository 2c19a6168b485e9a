"""The demo's person page in Chromium: one clock, one story, at desktop and phone width.

Before the workspace clock, a stage override made on the demo was dated 1998-06-30 while
a note beside it was dated 2026, and the page showed RFM "Champions", stage "Lapsed" and
two risk percentages without a word on why. Screenshots go to TENURE_SCREENSHOTS (a
directory) when it is set, else to the test's tmp_path.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tenure.config import Settings
from tenure.datasets.demo import ADMIN_EMAIL, DEMO_PASSWORD, build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.retention.actions import refresh_retention
from tenure.scores.models import PersonScore
from tenure.scores.refresh import refresh_scores
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

DEMO_TODAY = datetime(1998, 7, 1, tzinfo=UTC)
TIMES = "() => [...document.querySelectorAll('time[datetime]')].map(t => t.dateTime)"
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def _demo_with_analytics(url: str) -> int:
    """Build the demo, score it, refresh retention; a Champion in a non-active stage."""
    engine = create_db_engine(url)
    build_demo_workspace(engine=engine, settings=Settings(database_url=url))
    refresh_scores(settings=Settings(database_url=url), engine=engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        refresh_retention(session=session)
    with factory() as session:
        champions = (
            select(PersonScore.person_id)
            .join(PersonStage, PersonStage.person_id == PersonScore.person_id)
            .join(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
            .where(PersonScore.rfm_segment == "Champions")
            .order_by(LifecycleStage.key.in_(("lapsed", "at_risk")).desc(), PersonScore.person_id)
            .limit(1)
        )
        person_id = session.scalar(champions)
    engine.dispose()
    assert person_id is not None
    return person_id


def _shots() -> Path | None:
    folder = os.environ.get("TENURE_SCREENSHOTS")
    return Path(folder) if folder else None


def test_demo_person_page_tells_one_story(backend, fresh_database_url, tmp_path):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    person_id = _demo_with_analytics(fresh_database_url)
    shots = _shots() or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, f"{base}/people/{person_id}", ADMIN_EMAIL, DEMO_PASSWORD)
        expect(page).to_have_url(f"{base}/people/{person_id}")

        # When a note is written and the stage is set by hand "today"
        page.fill("textarea[name=body]", "Called: moving to a competitor's store.")
        page.click("#notes button[type=submit]")
        current = page.locator("#stage [data-stage]").get_attribute("data-stage")
        target = "loyal" if current != "loyal" else "advocate"
        page.select_option("#stage select[name=stage]", target)
        page.fill("#stage input[name=reason]", "Said so on the phone")
        page.click("#stage button[type=submit]")
        expect(page.locator("#stage-override")).to_contain_text("Said so on the phone")

        # Then the page's today is the demo's, and no date on it lies after that day
        expect(page.locator("#today")).to_contain_text("1998-07-01")
        stamps = [datetime.fromisoformat(t) for t in page.evaluate(TIMES)]
        assert stamps, "the page marks its dates up with <time>"
        assert max(stamps) <= DEMO_TODAY, [s for s in stamps if s > DEMO_TODAY]
        # the note, the override and the stage history entry are all dated today
        expect(page.locator("#notes li").first).to_contain_text("1998-07-01")
        expect(page.locator("#stage-history li").first).to_contain_text("1998-07-01")
        expect(page.locator("#stage-history li").first).to_contain_text("by hand")
        # scores and risk are judged at today, and the page says why they can differ
        expect(page.locator("#scores")).to_contain_text("As of 1998-07-01 (today)")
        expect(page.locator("#scores")).to_contain_text("Champions")
        expect(page.locator("#scores-explained")).to_contain_text("not a rule about days")
        expect(page.locator("#risk")).to_contain_text("1998-07-01")
        expect(page.locator("#risk-explained")).to_contain_text("churn model")
        # the summary counts days since the last order against the same today
        days = page.locator("#days-since-last-order").inner_text()
        assert re.fullmatch(r"[1-9][0-9,]* days? before today", days), days
        page.screenshot(path=str(shots / "demo-person-desktop.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=str(shots / "demo-person-390.png"), full_page=True)
        # Wide tables scroll inside their card; the page itself never scrolls sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{width}px wide at 390px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
        assert not errors, errors
        browser.close()
