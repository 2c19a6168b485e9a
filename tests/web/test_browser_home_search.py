"""Home and Find in Chromium: a sales rep finds a customer from the top bar by a
formatted phone with the keyboard alone, and follows a customer at risk from Home to
their person page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.retention.models import RiskScore
from tenure.workspace.clock import fix_now
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

TODAY = datetime(2026, 3, 10, tzinfo=UTC)
PASSWORD = "home-password-1"


@pytest.fixture
def book(backend: str, request: pytest.FixtureRequest) -> Iterator[dict]:
    if backend != "sqlite":
        pytest.skip("the pages are the same on both backends; one browser run is enough")
    require_chromium()
    url = request.getfixturevalue("fresh_database_url")
    engine = create_db_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        fix_now(session, TODAY)
        rita = create_user(
            session=session, email="rita@example.com", role="sales", password=PASSWORD, name="Rita"
        )
        people = {}
        for first, last, phone in [
            ("Grace", "Hopper", "+1 415 555 0199"),
            ("Alan", "Turing", "+1 415 555 0100"),
            ("Edsger", "Dijkstra", None),
        ]:
            identities = [{"kind": "phone", "value": phone}] if phone else []
            people[last] = create_person(
                session=session,
                data=PersonCreate(
                    first_name=first, last_name=last, owner_id=rita.id, identities=identities
                ),
                actor_id=None,
                default_region="US",
            ).id
        # The retention refresh's answer for two of Rita's customers (risk x 12-month CLV).
        for last, risk, value in [("Turing", 0.6, 40_000), ("Dijkstra", 0.8, 90_000)]:
            session.add(
                RiskScore(
                    person_id=people[last],
                    as_of=TODAY,
                    risk=risk,
                    value_minor=value,
                    value_at_risk_minor=round(value * risk),
                    currency="USD",
                    reasons=[{"signal": "recency", "text": "No order for 90 days"}],
                    signals={},
                )
            )
    yield {"url": url, "people": people}
    engine.dispose()


def _log_in(page, base: str) -> None:
    log_in(page, base + "/login", "rita@example.com", PASSWORD)


def test_find_a_person_by_a_formatted_phone_with_the_keyboard_only(book):
    from playwright.sync_api import expect, sync_playwright

    with running_server(book["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base)
        expect(page).to_have_url(base + "/")
        page.wait_for_load_state("load")  # the search script is deferred

        box = page.get_by_role("combobox", name="Search people, organizations and segments")
        page.keyboard.press("/")
        expect(box).to_be_focused()
        page.keyboard.type("(415) 555-0199", delay=20)
        results = page.get_by_role("listbox", name="Search results")
        options = results.get_by_role("group", name="People").get_by_role("option")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("Grace Hopper")
        # The last option opens the full results page.
        expect(results.get_by_role("option").last).to_have_text("All results for “(415) 555-0199”")
        expect(options.first).to_contain_text("+14155550199")
        expect(box).to_have_attribute("aria-expanded", "true")

        page.keyboard.press("ArrowDown")
        expect(options.first).to_have_attribute("aria-selected", "true")
        expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
        page.keyboard.press("Enter")
        expect(page).to_have_url(base + f"/people/{book['people']['Hopper']}")
        page.wait_for_load_state("load")

        # Ctrl+K from the person page; Escape closes the list; Enter with no option chosen
        # opens the full results page, where a phone typed another way finds both numbers.
        page.keyboard.press("Control+k")
        expect(box).to_be_focused()
        page.keyboard.type("415.555.01", delay=20)
        expect(options).to_have_count(2)
        page.keyboard.press("Escape")
        expect(page.get_by_role("listbox", name="Search results")).to_be_hidden()
        page.keyboard.press("Enter")
        expect(page).to_have_url(base + "/search?q=415.555.01")
        expect(page.locator("#results-people li")).to_have_count(2)

        # At 390 px the box is a button that opens it.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base + "/")
        expect(box).to_be_hidden()
        page.wait_for_load_state("load")
        page.get_by_role("button", name="Open search").click()
        expect(box).to_be_focused()
        page.keyboard.type("+1 415 555 0199", delay=20)
        expect(options).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == []
        browser.close()


def test_home_follows_a_customer_at_risk_to_their_person_page(book):
    from playwright.sync_api import expect, sync_playwright

    with running_server(book["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, base)
        expect(page.get_by_role("heading", name="My book")).to_be_visible()
        expect(page.locator("#kpi-customers")).to_contain_text("3")
        expect(page.get_by_role("navigation", name="Whose book")).to_have_count(0)  # sales

        # Highest value at risk first: Dijkstra 720.00 USD, then Turing 240.00 USD.
        rows = page.locator("#home-at-risk tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Edsger Dijkstra")
        expect(rows.nth(0)).to_contain_text("720.00 USD")
        expect(rows.nth(1)).to_contain_text("Alan Turing")
        rows.nth(0).get_by_role("link", name="Edsger Dijkstra").click()
        expect(page).to_have_url(base + f"/people/{book['people']['Dijkstra']}")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Edsger Dijkstra")

        # The brand link goes home.
        page.get_by_role("link", name="Tenure", exact=True).click()
        expect(page).to_have_url(base + "/")
        browser.close()
