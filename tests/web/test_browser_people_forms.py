"""A sales person's day on people, in Chromium: create a person; be warned when creating a
near-duplicate of someone already there and open the existing one instead; change an
email inline; delete with confirmation; tag two people and give them an owner from the
list. The read-only analyst sees no write control on the list or the person page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenure.customers.actions import create_person
from tenure.customers.models import Person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.dedup.test_dedup_scan import write_base
from tests.dedup.test_door import _twin_of

pytestmark = pytest.mark.browser

PASSWORD = "forms-password-1"


@pytest.fixture
def office(fresh_database_url: str) -> Iterator[dict]:
    """A base of 300 look-alike-rich people (the duplicate check's synthetic base), the
    staff, and two people to work on in bulk."""
    engine = create_db_engine(fresh_database_url)
    factory = make_session_factory(engine)
    write_base(factory, 300)
    with unit_of_work(factory) as session:
        existing, twin = _twin_of(session)
        for role, name in (("admin", "Ada Admin"), ("sales", "Rita Rep"), ("analyst", "Al")):
            create_user(
                session=session,
                email=f"{role}@example.com",
                role=role,
                password=PASSWORD,
                name=name,
            )
        for first in ("Hedy", "Ada"):
            create_person(
                session=session,
                data=PersonCreate(first_name=first, last_name="Quimby-Fairweather"),
                actor_id=None,
                default_region="US",
            )
    yield {"url": fresh_database_url, "factory": factory, "existing": existing, "twin": twin}
    engine.dispose()


def _people(office: dict) -> int:
    with office["factory"]() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TENURE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, base: str, role: str) -> None:
    log_in(page, base + "/login", f"{role}@example.com", PASSWORD)


def _both_widths(page, shots: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll}px wide at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_create_warn_edit_delete_and_bulk(office, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    twin = office["twin"]
    with running_server(office["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, base, "admin")

        # Create a person.
        page.goto(base + "/people")
        page.click("text=New person")
        expect(page.locator("h1")).to_have_text("New person")
        page.fill("input[name=first_name]", "Marie")
        page.fill("input[name=last_name]", "Sklodowska")
        page.fill("input[name=job_title]", "Physicist")
        page.fill("#person-new-email-0", "marie@sorbonne.example")
        page.click("button.add-row[data-kind=email]")
        page.fill("#person-new-email-1", "msc@radium.example")
        page.fill("#person-new-phone-0", "(415) 555-0199")
        page.select_option("select[name=owner_id]", label="Rita Rep")
        page.fill("input[name=tags]", "nobel")
        _both_widths(page, shots, "people-new")
        page.click("text=Create person")
        expect(page.locator("h1")).to_have_text("Marie Sklodowska")
        expect(page.locator(".person-head")).to_contain_text("Physicist · owned by Rita Rep")
        expect(page.locator("#identities")).to_contain_text("msc@radium.example")
        marie_url = page.url

        # A near-duplicate of someone already here: warned, nothing created, open theirs.
        people = _people(office)
        page.goto(base + "/people/new")
        page.fill("input[name=first_name]", twin["first_name"])
        page.fill("input[name=last_name]", twin["last_name"])
        page.fill("#person-new-phone-0", twin["identities"][0]["value"])
        for key, value in twin["attributes"].items():
            page.fill(f"#person-new-attr-{key}", value)
        page.click("text=Create person")
        warning = page.locator("#duplicate-warning")
        expect(warning).to_contain_text("This may be someone already here")
        expect(warning).to_contain_text("Phone:")
        expect(warning).to_contain_text("Decision:")
        expect(warning.locator("button", has_text="Create anyway")).to_be_visible()
        expect(page.locator("input[name=first_name]")).to_have_value(twin["first_name"])
        _both_widths(page, shots, "people-duplicate-warning")
        warning.locator(f'a[href="/people/{office["existing"]}"]').first.click()
        expect(page).to_have_url(f"{base}/people/{office['existing']}")
        name = f"{twin['first_name']} {twin['last_name']}"
        expect(page.locator("h1")).to_have_text(name)
        assert _people(office) == people  # the warning created nobody

        # Edit an email inline.
        page.goto(marie_url)
        page.click("#edit-person summary")
        _both_widths(page, shots, "person-edit")
        page.fill("#person-edit-email-0", "marie.curie@sorbonne.example")
        page.check("#edit-person input[name=email_primary][value='0']")
        page.click("text=Save changes")
        identities = page.locator("#identities")
        expect(identities).to_contain_text("marie.curie@sorbonne.example")
        expect(identities).not_to_contain_text("marie@sorbonne.example")
        expect(identities).to_contain_text("msc@radium.example")

        # Delete, after confirming.
        page.click("#delete-person summary")
        expect(page.locator("#delete-person")).to_contain_text("This cannot be undone")
        page.click("#delete-person button")
        expect(page).to_have_url(f"{base}/people")
        expect(page.locator("#notice")).to_have_text("Deleted Marie Sklodowska.")

        # Bulk: tag both people found, then give them an owner.
        page.fill("input[name=q]", "Quimby")
        page.click("text=Filter")
        rows = page.locator("#people tbody tr")
        expect(rows).to_have_count(2)
        page.check("#select-all")
        expect(page.locator("#bulk-count")).to_have_text("2 selected")
        page.fill("#bulk input[name=tag]", "trade-fair")
        page.click("#bulk button[value=add_tag]")
        expect(page.locator("#notice")).to_have_text("Tag trade-fair added to 2 people.")
        expect(rows.filter(has_text="trade-fair")).to_have_count(2)
        page.check("#select-all")
        page.select_option("#bulk select[name=owner_id]", label="Rita Rep")
        page.click("#bulk button[value=assign_owner]")
        expect(page.locator("#notice")).to_have_text("Owner set to Rita Rep for 2 people.")
        expect(rows.filter(has_text="Rita Rep")).to_have_count(2)
        _both_widths(page, shots, "people-bulk")

        # Bulk delete asks first, with the count.
        page.check("#select-all")
        page.click("#bulk button[value=delete]")
        expect(page.locator("h1")).to_have_text("Delete 2 people?")
        page.click("text=Cancel")
        expect(rows).to_have_count(2)
        browser.close()


def test_the_analyst_sees_no_write_control(office, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    with running_server(office["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, base, "analyst")
        page.goto(base + "/people?q=Quimby")
        expect(page.locator("#people tbody tr")).to_have_count(2)
        for absent in ("#bulk", "#select-all", "input[name=ids]", "text=New person"):
            expect(page.locator(absent)).to_have_count(0)
        _both_widths(page, shots, "people-analyst")
        page.click("text=Hedy Quimby-Fairweather")
        expect(page.locator("h1")).to_have_text("Hedy Quimby-Fairweather")
        for absent in ("#edit-person", "#delete-person", "form[action$='/edit']"):
            expect(page.locator(absent)).to_have_count(0)
        expect(page.locator("main form[method=post]")).to_have_count(0)
        browser.close()
