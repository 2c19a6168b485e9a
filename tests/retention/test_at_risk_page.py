"""The at-risk page in Chromium: value at risk first, reasons, filter, settings form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.retention.actions import record_nba_rules, refresh_retention
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

from .history import AS_OF, add_event, orders_every, person, score

pytestmark = pytest.mark.browser


def _workspace(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        manager = create_user(
            session=session,
            email="mia@example.com",
            role="manager",
            password="mia-pass-1",
            name="Mia",
        )
        people = {}
        # Value at risk: 600 x 0.5616 = 336.96 > 900 x 0.36 = 324 > 100 x 0.5616 = 56.16
        for name, clv, complaints in (
            ("Low Value", 10_000, 3),
            ("High Value", 90_000, 1),
            ("Mid Value", 60_000, 3),
        ):
            who = person(session, name, owner_id=manager.id)
            score(session, who, clv_minor=clv)
            for days in range(1, complaints + 1):
                add_event(session, who, AS_OF - timedelta(days=days), "complaint")
            people[name] = who
        # Mid Value also bought Jazz; Jazz buyers go on to buy Folk
        add_event(
            session,
            people["Mid Value"],
            AS_OF - timedelta(days=10),
            "order",
            amount=1500,
            items=["Jazz"],
        )
        for i in range(6):
            fan = person(session, f"Jazz Fan{i}")
            start = AS_OF - timedelta(days=300)
            add_event(session, fan, start, "order", amount=1500, items=["Jazz"])
            add_event(
                session, fan, start + timedelta(days=40), "order", amount=1500, items=["Folk"]
            )
        orders_every(
            session,
            person(session, "Other Buyer"),
            start=AS_OF - timedelta(days=300),
            days=30,
            count=2,
        )
        refresh_retention(session=session, as_of=AS_OF)
        record_nba_rules(session=session, as_of=AS_OF, window_days=90, min_support=3)
    engine.dispose()
    return people


def test_at_risk_page_sorted_by_value_at_risk(backend, request):
    if backend != "sqlite":
        pytest.skip("the page is the same on both backends; one browser run is enough")
    require_chromium()
    fresh_database_url = request.getfixturevalue("fresh_database_url")
    from playwright.sync_api import expect, sync_playwright

    people = _workspace(fresh_database_url)
    with running_server(fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, base + "/at-risk", "mia@example.com", "mia-pass-1")
        expect(page).to_have_url(base + "/at-risk")
        expect(page.get_by_role("link", name="At risk")).to_have_attribute("aria-current", "page")
        expect(page.locator("#refresh-info")).to_contain_text("Signals as of 2024-10-31")

        # Rows by value at risk, each with its reasons and a link to the person
        rows = page.locator("#at-risk tbody tr")
        expect(rows).to_have_count(3)
        order = [int(r.get_attribute("data-person-id") or 0) for r in rows.all()]
        assert order == [people["Mid Value"], people["High Value"], people["Low Value"]]
        expect(rows.nth(0).locator("ul.reasons li")).to_have_text(
            ["3 complaints in 30 days (last on 2024-10-30)"]
        )
        expect(rows.nth(0)).to_contain_text("336.96 USD")
        expect(rows.nth(0).locator("td").last).to_contain_text("since 2024-10-31")

        # Only those at or above the threshold
        page.get_by_label("Only at or above the alert threshold").check()
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(2)

        # Each customer links to their person page (its cards: test_person_cards.py)
        link = rows.nth(0).get_by_role("link", name="Mid Value")
        assert link.get_attribute("href") == f"/people/{people['Mid Value']}"

        # A manager tunes the alert threshold on the page
        page.goto(base + "/at-risk")
        page.get_by_label("Alert threshold (%)").fill("60")
        page.get_by_role("button", name="Save").click()
        expect(page).to_have_url(base + "/at-risk#settings")
        expect(page.locator("#settings")).to_contain_text("risk ≥ 60%")
        assert errors == []
        browser.close()
