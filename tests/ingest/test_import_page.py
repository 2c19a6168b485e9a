"""The import page in Chromium: log in, upload a CSV, fix a mapping, check, run, read the report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tenure.customers.models import Identity, Person
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.ingest.models import Import
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

CSV = (
    "Email,Full Name,Phone,Company,Plan\n"
    "ada@example.com,Ada Lovelace,(202) 555-0172,Analytical Engines,pro\n"
    'grace@example.com,"HOPPER, GRACE",,US Navy,free\n'
    "oops,Carl Jung,,,free\n"
)


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'page.db'}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="ops-password")
    engine.dispose()
    yield url


def test_upload_fix_mapping_check_and_run(database, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    upload = tmp_path / "customers.csv"
    upload.write_text(CSV)
    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        log_in(page, base + "/imports", "ops@example.com", "ops-password")
        expect(page).to_have_url(base + "/imports")
        expect(page.get_by_role("link", name="Import")).to_have_attribute("aria-current", "page")

        page.set_input_files("input[name=file]", str(upload))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#status")).to_have_text("draft")
        expect(page.locator("#mapping tbody tr")).to_have_count(3)
        expect(page.locator("#mapping tbody")).to_contain_text("HOPPER, GRACE")
        plan = page.get_by_label("Target of Plan")
        expect(plan).to_have_value("ignore")
        expect(page.get_by_label("Target of Full Name")).to_have_value("full_name")

        plan.select_option("new:plan")
        page.get_by_role("button", name="Check (dry run)").click()
        expect(page.locator("#dry-run [data-count=created]")).to_have_text("2")
        expect(page.locator("#dry-run [data-count=rejected]")).to_have_text("1")
        expect(page.locator("#dry-run-rejected")).to_contain_text("Email")
        expect(page.get_by_label("Target of Plan")).to_have_value("new:plan")

        page.get_by_role("button", name="Run import").click()
        expect(page.locator("#status")).to_have_text("completed")
        expect(page.locator("#counts [data-count=created]")).to_have_text("2")
        expect(page.locator("#counts [data-count=rejected]")).to_have_text("1")
        rejected = page.locator("#rejected tbody tr")
        expect(rejected).to_have_count(1)
        expect(rejected).to_contain_text("4")
        expect(rejected).to_contain_text("An email address must have an @-sign")

        page.get_by_role("link", name="All imports").click()
        expect(page.locator("#imports tbody tr")).to_have_count(1)
        expect(page.locator("#imports")).to_contain_text("customers.csv")
        browser.close()

    engine = create_db_engine(database)
    with make_session_factory(engine)() as session:
        grace = session.scalar(
            select(Person).join(Identity).where(Identity.value == "grace@example.com")
        )
        assert (grace.first_name, grace.last_name) == ("Grace", "Hopper")
        assert grace.attributes == {"plan": "free"}
        record = session.scalar(select(Import))
        assert record.mapping["Plan"] == "attribute:plan" and record.status == "completed"
    engine.dispose()
