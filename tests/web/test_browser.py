"""The web app in Chromium: log in, search, open a person, add a note."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.models import Note
from tenure.customers.schemas import PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.timeline.append import append_events
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_server

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(fresh_database_url: str) -> Iterator[dict]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        owner = create_user(
            session=session,
            email="rep@example.com",
            role="sales",
            password="rep-password",
            name="Rita Rep",
        )
        people = [
            create_person(
                session=session,
                data=PersonCreate(
                    first_name=first,
                    last_name=last,
                    owner_id=owner.id,
                    tags=tags,
                    identities=[{"kind": "email", "value": f"{first.lower()}@example.com"}],
                ),
                actor_id=owner.id,
                default_region="US",
            )
            for first, last, tags in [
                ("Marguerite", "Perey", ["vip"]),
                ("Lise", "Meitner", []),
                ("Chien-Shiung", "Wu", ["vip"]),
            ]
        ]
        target = people[0].id
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "occurred_at": "2026-02-03T15:04:00Z",
                    "person_id": target,
                    "channel": "web",
                    "amount_minor": 12345,
                    "currency": "EUR",
                    "items": [{"sku": "RA-226", "category": "isotopes", "unit_price_minor": 12345}],
                },
                {
                    "type": "email_opened",
                    "occurred_at": "2026-02-04T09:00:00Z",
                    "person_id": target,
                    "channel": "email",
                },
            ],
            actor_id=owner.id,
        )
    yield {"url": fresh_database_url, "engine": engine, "person_id": target, "owner_id": owner.id}
    engine.dispose()


def test_login_search_open_person_and_add_note(seeded):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(seeded["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(base + "/people")
        expect(page).to_have_url(base + "/login?next=/people")
        page.fill("input[name=email]", "rep@example.com")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
        page.fill("input[name=password]", "rep-password")
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/people")
        expect(page.locator("#people tbody tr")).to_have_count(3)

        page.fill("input[name=q]", "perey")
        page.click("form.filters button")
        rows = page.locator("#people tbody tr")
        expect(rows).to_have_count(1)
        page.select_option("select[name=tag]", "vip")
        page.fill("input[name=q]", "")
        page.click("form.filters button")
        expect(rows).to_have_count(2)

        page.get_by_role("link", name="Marguerite Perey").click()
        expect(page.locator("h1")).to_have_text("Marguerite Perey")
        expect(page.locator("#timeline")).to_contain_text("123.45 EUR")
        expect(page.locator("#timeline .event-order use")).to_have_attribute(
            "href", "/static/icons.svg#web"
        )
        expect(page.locator("#identities")).to_contain_text("marguerite@example.com")

        page.fill("textarea[name=body]", "Called about the radium order; wants a quote.")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#notes .notes")).to_contain_text("wants a quote")
        browser.close()

    with unit_of_work(make_session_factory(seeded["engine"])) as session:
        note = session.scalar(select(Note).where(Note.person_id == seeded["person_id"]))
        assert note is not None and note.author_id == seeded["owner_id"]
        audited = session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_type == "note", AuditEntry.entity_id == str(note.id)
            )
        )
        assert audited is not None and audited.actor_id == seeded["owner_id"]
