"""The analytics page in Chromium: log in, open /analytics, every chart drawn with data."""

from __future__ import annotations

import pytest

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.scores.refresh import refresh_scores
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_server

from .workspace import AS_OF, generate

pytestmark = pytest.mark.browser

CHARTS = ("clv", "palive", "backtest", "cumulative", "calibration", "segments", "cohorts")


def test_analytics_page_draws_every_chart(backend, fresh_database_url):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        generate(session.connection())
        create_user(session=session, email="ana@example.com", role="analyst", password="ana-pass-1")
    refresh_scores(engine=engine, settings=Settings(database_url=fresh_database_url), as_of=AS_OF)
    engine.dispose()

    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "/analytics")
        expect(page).to_have_url(base + "/login?next=/analytics")
        page.fill("input[name=email]", "ana@example.com")
        page.fill("input[name=password]", "ana-pass-1")
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/analytics")
        expect(page.locator("#scores-as-of")).to_contain_text("as of 2025-12-31")

        # Every chart exists, has data points, and painted its canvas
        page.wait_for_function("Object.keys(window.tenureCharts || {}).length >= 7")
        for name in CHARTS:
            points = page.evaluate(
                "name => window.tenureCharts[name].data.datasets[0].data.length", name
            )
            assert points > 0, name
            painted = page.evaluate(
                """name => {
                    const canvas = window.tenureCharts[name].canvas;
                    const pixels = canvas.getContext("2d")
                        .getImageData(0, 0, canvas.width, canvas.height).data;
                    let inked = 0;
                    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
                    return {width: canvas.width, inked: inked};
                }""",
                name,
            )
            assert painted["width"] > 100 and painted["inked"] > 1000, (name, painted)

        # The KPI form changes the period
        page.fill("input[name=from]", "2025-01-01")
        page.fill("input[name=to]", "2025-06-30")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("section[aria-label='KPIs for the period'] h2")).to_have_text(
            "2025-01-01 to 2025-06-30"
        )
        expect(page.locator("[data-kpi=orders] .kpi-value")).not_to_have_text("0")
        assert errors == []
        browser.close()
