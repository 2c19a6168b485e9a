"""The people list in Chromium: choose columns, sort by a header, save the view (shared),
reopen it from the menu and export it as CSV and Excel, rows in the view's order."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest

from tenure.customers.actions import create_person
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.timeline.append import append_events
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

PASSWORD = "views-password-1"
ORDERS = {"Ada": 2, "Grace": 5, "Edsger": 0, "Barbara": 3}


@pytest.fixture
def database(fresh_database_url: str) -> Iterator[str]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        for role in ("admin", "sales"):
            create_user(session=session, email=f"{role}@example.com", role=role, password=PASSWORD)
        for first, count in ORDERS.items():
            person = create_person(
                session=session,
                data=PersonCreate(first_name=first, last_name="Pioneer"),
                actor_id=None,
                default_region="US",
            )
            append_events(
                session=session,
                raw_items=[
                    {
                        "type": "order",
                        "occurred_at": f"2026-01-0{n + 1}T10:00:00Z",
                        "person_id": person.id,
                        "amount_minor": 1000,
                        "currency": "USD",
                    }
                    for n in range(count)
                ],
                actor_id=None,
            )
    engine.dispose()
    yield fresh_database_url


def _log_in(page, base: str, role: str) -> None:
    log_in(page, base + "/login", f"{role}@example.com", PASSWORD)


def test_save_a_view_and_export_it(database, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    by_orders = sorted(ORDERS, key=ORDERS.__getitem__, reverse=True)
    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, "admin")
        page.get_by_role("link", name="People", exact=True).click()

        # Columns: add Orders, drop Tags and Created
        page.locator("#columns-menu summary").click()
        page.check("#columns-menu input[value=orders]")
        page.uncheck("#columns-menu input[value=tags]")
        page.uncheck("#columns-menu input[value=created]")
        page.get_by_role("button", name="Show columns").click()
        headers = page.locator("#people thead th")
        # The first column holds the bulk-action checkboxes (an admin may edit).
        expect(headers).to_have_text(["", "Name", "Email", "Owner", "Organization", "Orders"])

        # Sort by orders: a click ascends, a second descends
        page.locator("th[data-column=orders] a").click()
        expect(page.locator("th[data-column=orders]")).to_have_attribute("aria-sort", "ascending")
        page.locator("th[data-column=orders] a").click()
        expect(page.locator("th[data-column=orders]")).to_have_attribute("aria-sort", "descending")
        names = page.locator("#people tbody td:nth-child(2)")
        expect(names).to_have_text([f"{n} Pioneer" for n in by_orders])

        # Save it, shared
        page.locator("#views-menu summary").click()
        page.fill("#save-view input[name=name]", "Best buyers")
        page.check("#save-view input[name=shared]")
        page.get_by_role("button", name="Save view").click()
        expect(page.locator("#views-menu summary")).to_have_text("View: Best buyers")
        page.screenshot(path=str(tmp_path / "people-view-1280.png"), full_page=True)

        # Export it as CSV and as Excel: the view's columns and order
        with page.expect_download() as download:
            page.locator("#export-csv").click()
        assert download.value.suggested_filename == "people.csv"
        with open(download.value.path(), encoding="utf-8") as file:
            rows = list(csv.reader(file))
        assert rows[0] == ["Name", "Email", "Owner", "Organization", "Orders"]
        assert [r[0] for r in rows[1:]] == [f"{n} Pioneer" for n in by_orders]
        assert [int(r[4]) for r in rows[1:]] == [ORDERS[n] for n in by_orders]
        with page.expect_download() as download:
            page.locator("#export-xlsx").click()
        assert download.value.suggested_filename == "people.xlsx"
        with open(download.value.path(), "rb") as file:
            sheet = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True).active
        cells = list(sheet.iter_rows(values_only=True))
        assert list(cells[0]) == rows[0]
        assert [c[0] for c in cells[1:]] == [r[0] for r in rows[1:]]
        page.get_by_role("button", name="Log out").click()

        # A colleague finds the shared view in the menu and opens it as it was saved
        _log_in(page, base, "sales")
        page.goto(base + "/people")
        page.locator("#views-menu summary").click()
        page.get_by_role("link", name="Best buyers").click()
        expect(page.locator("#views-menu summary")).to_have_text("View: Best buyers")
        columns = page.locator("#people thead th[data-column]")  # not the bulk checkboxes
        assert columns.evaluate_all("ths => ths.map(th => th.dataset.column)") == [
            "name",
            "email",
            "owner",
            "organization",
            "orders",
        ]
        expect(page.locator("th[data-column=orders]")).to_have_attribute("aria-sort", "descending")
        expect(names).to_have_text([f"{n} Pioneer" for n in by_orders])
        # Not theirs: no delete button
        expect(
            page.locator("#views-menu").get_by_role("button", name="Delete view Best buyers")
        ).to_have_count(0)
        assert errors == []
        browser.close()


def test_one_menu_open_at_a_time(database):
    """Views and Columns lie over the list: opening one closes the other; a click outside
    or Escape closes it (the read-only analyst's page has the menus too)."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, "sales")
        page.goto(base + "/people")
        views, columns = page.locator("#views-menu"), page.locator("#columns-menu")

        page.locator("#views-menu summary").click()
        expect(views).to_have_attribute("open", "")
        page.locator("#columns-menu summary").click()
        expect(columns).to_have_attribute("open", "")
        expect(views).not_to_have_attribute("open", "")

        # Inside the open menu a click keeps it open; outside closes it.
        page.locator("#columns-menu input[value=phone]").check()
        expect(columns).to_have_attribute("open", "")
        page.locator("h1").click()
        expect(columns).not_to_have_attribute("open", "")

        page.locator("#views-menu summary").click()
        expect(views).to_have_attribute("open", "")
        page.keyboard.press("Escape")
        expect(views).not_to_have_attribute("open", "")
        expect(page.locator("#views-menu summary")).to_be_focused()
        assert errors == []
        browser.close()
