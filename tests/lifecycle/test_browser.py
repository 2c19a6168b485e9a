"""The funnel page in Chromium: charts drawn with data, the tag filter, time in stage."""

from __future__ import annotations

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.lifecycle.actions import evaluate_people
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

from .helpers import AS_OF, days_ago, event, order, person, store

pytestmark = pytest.mark.browser

PAINTED = """name => {
    const canvas = window.tenureCharts[name].canvas;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    return inked;
}"""


def _workspace(url: str) -> None:
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        visitors = [person(session, f"v{i}", tags=["web"] if i % 2 else None) for i in range(6)]
        store(session, [event(p, "visit", days_ago(60)) for p in visitors])
        evaluate_people(session=session, person_ids=visitors, as_of=days_ago(59))
        store(session, [order(p, days_ago(40)) for p in visitors[:4]])
        evaluate_people(session=session, person_ids=visitors, as_of=days_ago(39))
        store(session, [order(p, days_ago(10)) for p in visitors[:2]])
        evaluate_people(session=session, person_ids=visitors, as_of=AS_OF)
        create_user(
            session=session, email="mia@example.com", role="marketing", password="mia-pass-1"
        )
    engine.dispose()


def test_funnel_page_draws_the_funnel(backend, fresh_database_url):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    _workspace(fresh_database_url)
    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base + "/lifecycle", "mia@example.com", "mia-pass-1")
        expect(page).to_have_url(base + "/lifecycle")
        expect(page.get_by_role("link", name="Lifecycle")).to_have_attribute("aria-current", "page")

        # The funnel: 6 reached Lead, 4 New customer, 2 Active (the conversion table agrees)
        page.wait_for_function("window.tenureCharts && window.tenureCharts.funnel")
        reached = page.evaluate("window.tenureCharts.funnel.data.datasets[0].data")
        assert reached[:4] == [6, 6, 4, 2]
        expect(page.locator("#funnel-table tr[data-stage=new_customer] td").nth(3)).to_have_text(
            "50.0%"
        )
        for name in ("funnel", "current"):
            assert page.evaluate(PAINTED, name) > 1000, name

        # The tag filter narrows the population to the three tagged visitors
        page.select_option("select[name=tag]", "web")
        expect(page).to_have_url(base + "/lifecycle?tag=web")
        page.wait_for_function("window.tenureCharts && window.tenureCharts.funnel")
        assert page.evaluate("window.tenureCharts.funnel.data.datasets[0].data")[1] == 3

        # Time in stage: one Kaplan-Meier curve per stage with spells
        page.get_by_role("link", name="Time in stage").click()
        page.wait_for_function("window.tenureCharts && window.tenureCharts.km")
        curves = page.evaluate("window.tenureCharts.km.data.datasets.map(d => d.label)")
        assert curves[:3] == ["Lead", "New customer", "Active"]
        assert page.evaluate(PAINTED, "km") > 1000
        assert errors == []
        browser.close()
