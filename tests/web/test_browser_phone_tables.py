"""The main pages at a phone's width (390 px), as an admin and as the read-only analyst:
the document never scrolls sideways (``document.scrollingElement``), the at-risk list
reflows into one block per customer, and the lifecycle cohort matrix scrolls inside its
card with its first column held in view.

The workspace is the layout walk's (long names, a wide import draft) plus what the two
tables need: customers with warning signals (retention refreshed) and people placed in
lifecycle stages (a cohort row). Screenshots go to ``$TENURE_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.models import Role
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.retention.actions import refresh_retention
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.retention.history import AS_OF, add_event, orders_every, person, score
from tests.web.world import PASSWORD, World, build_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MAIN_PAGES = (
    "/",
    "/tasks",
    "/people",
    "/organizations",
    "/imports",
    "/analytics",
    "/at-risk",
    "/duplicates",
    "/segments",
    "/lifecycle",
    "/lifecycle/time-in-stage",
    "/lifecycle/journeys",
    "/lifecycle/settings",
    "/templates",
    "/messages",
    "/settings",
    "/settings/profile",
    "/search?q=Wolfe",
)
OVERFLOW = "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"


def _at_risk_and_stages(url: str) -> None:
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        for n, name in enumerate(
            ("Bartholomew Featherstonehaugh-Cholmondeley", "Ana Brisk", "Ola Steady")
        ):
            who = person(session, name)
            score(session, who, clv_minor=90_000 - 10_000 * n)
            orders_every(session, who, start=AS_OF - timedelta(days=400), days=20, count=8)
            for days in range(1, 4):
                add_event(session, who, AS_OF - timedelta(days=days), "complaint")
        refresh_retention(session=session, as_of=AS_OF)
    evaluate_all_stages(session_factory=factory, as_of=AS_OF)
    engine.dispose()


@pytest.fixture
def world(backend: str, request) -> Iterator[tuple[str, World]]:
    if backend != "sqlite":
        pytest.skip("the pages are the same on both backends; one browser run is enough")
    url = request.getfixturevalue("fresh_database_url")
    engine = create_db_engine(url)
    built = build_world(make_session_factory(engine))
    engine.dispose()
    _at_risk_and_stages(url)
    yield url, built


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TENURE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _walk(page, base: str, paths, shots: Path, who: str) -> dict[str, list[int]]:
    overflowing = {}
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, (who, path)
        page.wait_for_load_state("networkidle")
        scroll_width, client_width = page.evaluate(OVERFLOW)
        if scroll_width > client_width:
            overflowing[path] = [scroll_width, client_width]
        name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
        page.screenshot(path=str(shots / f"phone-{who}-{name}.png"), full_page=True)
    return overflowing


def test_no_main_page_scrolls_sideways_at_390px(world, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url, built = world
    shots = _shots(tmp_path)
    detail_pages = [
        f"/people/{built.person_id}",
        f"/organizations/{built.organization_id}",
        f"/segments/{built.segment_id}",
        f"/imports/{built.import_id}",
    ]
    with running_server(url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role in ("admin", "analyst"):
            page = browser.new_page(viewport=PHONE)
            log_in(page, base + "/tasks", f"{role}@example.com", PASSWORD)
            expect(page).to_have_url(base + "/tasks")
            pages = [*MAIN_PAGES, *detail_pages, *built.pages(Role(role))]
            if role == "admin":
                pages += ["/jobs", "/webhooks", "/settings/users", "/settings/workspace"]
            assert _walk(page, base, dict.fromkeys(pages), shots, role) == {}, role
            page.close()
        browser.close()


def test_the_at_risk_list_reflows_and_the_cohorts_scroll_in_their_card(world, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url, _ = world
    with running_server(url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        log_in(page, base + "/at-risk", "analyst@example.com", PASSWORD)
        rows = page.locator("#at-risk tbody tr")
        expect(rows).to_have_count(3)
        # One block per customer, every line of it on the screen: nothing to scroll to.
        for row in rows.all():
            assert row.evaluate("r => getComputedStyle(r).display") == "block"
            box = row.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            for cell in row.locator("td").all():
                cell_box = cell.bounding_box()
                assert cell_box is not None and cell_box["x"] + cell_box["width"] <= 390
        first = rows.nth(0)
        expect(first.locator("td").first).to_contain_text("Bartholomew")
        # Each line names what it is (the header row is hidden on a phone).
        assert (
            first.locator("td[data-label='Value at risk']").evaluate(
                "c => getComputedStyle(c, '::before').content"
            )
            == '"Value at risk"'
        )
        scroll = page.evaluate("document.querySelector('#at-risk').closest('.table-scroll')")
        assert scroll is not None
        assert page.evaluate(OVERFLOW)[0] <= 390

        page.goto(base + "/lifecycle")
        table = page.locator("#cohort-table")
        expect(table.locator("tbody tr")).not_to_have_count(0)
        box = table.locator("xpath=..")
        widths = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
        card = page.locator("#cohorts").bounding_box()
        assert card is not None and card["x"] + card["width"] <= 390
        # Wider than the phone: it scrolls inside its box, not the page.
        assert widths[0] > widths[1]
        assert box.evaluate("b => getComputedStyle(b).overflowX") == "auto"
        label = table.locator("tbody tr td").first
        before = label.bounding_box()
        box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        after = label.bounding_box()
        # The cohort (first column) stays in view while the stages scroll under it.
        assert before is not None and after is not None and after["x"] == before["x"]
        assert label.evaluate("c => c.scrollHeight <= c.clientHeight + 1")  # on one line
        assert page.evaluate(OVERFLOW)[0] <= 390
        browser.close()
