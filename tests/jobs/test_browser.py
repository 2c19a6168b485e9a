"""A new demo served with the embedded worker fills itself in: at-risk, next best action
and the built-in segments appear without any command; the jobs page is for admins."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tenure.all_tasks import NIGHTLY_CHAIN
from tenure.config import Settings
from tenure.customers.models import Person
from tenure.datasets.demo import ADMIN_EMAIL, DEMO_PASSWORD, build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.retention.queries import next_best_action
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.conftest import TEST_SECRET

pytestmark = [
    pytest.mark.browser,
    # FastAPI builds a route's parameters on the first request that reaches it, in the
    # server thread, and pydantic warns about the lifecycle API's Query(alias=...) on an
    # optional list. The worker thread's scikit-learn and SciPy fits enter and leave
    # warnings.catch_warnings meanwhile (process-wide filters), so whether pytest's
    # "error" filter is in place at that instant is a race; this test is about the jobs.
    pytest.mark.filterwarnings("ignore::pydantic.warnings.UnsupportedFieldAttributeWarning"),
]

ANALYST = "ana.analyst@demo.tenure.dev"


def _log_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, base + "/login", email, DEMO_PASSWORD)


def test_a_new_demo_fills_itself_in_and_the_jobs_page_is_for_admins(backend, request):
    if backend != "sqlite":
        pytest.skip("the embedded default is SQLite; the runner's SQL is tested on both")
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url = request.getfixturevalue("fresh_database_url")
    engine = create_db_engine(url)
    # Given a small demo (the first 1,500 CDNOW customers) with nothing computed yet
    build_demo_workspace(
        engine=engine,
        settings=Settings(database_url=url, secret_key=TEST_SECRET),
        size=1_500,
    )
    with running_server(url, run_jobs=True) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, ADMIN_EMAIL)

        # When the server runs: the page says it is computing, then it is filled in
        page.goto(base + "/at-risk")
        expect(page.locator("#refresh-info")).not_to_contain_text("No signals yet")
        rows = page.locator("#at-risk tbody tr[data-person-id]")
        deadline = time.monotonic() + 240
        while rows.count() == 0:
            assert time.monotonic() < deadline, "the nightly chain did not fill the page"
            expect(page.locator("#refresh-info")).to_contain_text("Computing")
            time.sleep(1)
            page.reload()
        expect(page.locator("#refresh-info")).to_contain_text("Signals as of 1998-07-01")

        # Then the built-in segments have members
        page.goto(base + "/segments")
        builtin = page.locator("#builtin-segments tbody tr")
        expect(page.locator("#computing")).to_have_count(0)
        expect(builtin).to_have_count(13)
        members = [int(r.locator("td.num").inner_text().replace(",", "")) for r in builtin.all()]
        assert sum(members) >= 1_500  # every customer is in a value tier at least

        # And a customer's person page offers a next best action
        factory = make_session_factory(engine)
        with factory() as session:
            people = session.scalars(select(Person.id).order_by(Person.id).limit(200)).all()
            offered = next(p for p in people if next_best_action(session, p)["offers"])
        page.goto(f"{base}/people/{offered}")
        expect(page.locator("#next-best-action")).to_contain_text("Offer ")

        # The admin sees the jobs page: the chain succeeded and the schedule's next run
        expect(page.get_by_role("link", name="Jobs")).to_be_visible()
        page.get_by_role("link", name="Jobs").click()
        expect(page).to_have_url(base + "/jobs")
        recent = page.locator("#recent tbody tr")
        # The chain's last task runs only once every task before it succeeded (the demo's
        # workflow emails and the read model's rebuild fill the rest of the recent list).
        last = recent.filter(has_text=NIGHTLY_CHAIN[-1])
        expect(last).to_have_count(1)
        expect(last).to_contain_text("succeeded")
        expect(page.locator("#schedules")).to_contain_text("scores.refresh → lifecycle")
        expect(page.locator("#queue-health")).to_contain_text("succeeded")

        # An analyst neither sees the item nor opens the page
        page.context.clear_cookies()
        _log_in(page, base, ANALYST)
        expect(page.get_by_role("link", name="People", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="Jobs")).to_have_count(0)
        response = page.goto(base + "/jobs")
        assert response is not None and response.status == 403
        assert errors == []
        browser.close()
    engine.dispose()
