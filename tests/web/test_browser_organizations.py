"""An organization's day in Chromium: create it (a refused domain keeps what was typed),
open it, edit it inline, log a call and add a note (both on its own timeline), assign a
task to a colleague who finds it on My work, see it read-only as an analyst, and delete
it after confirming."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.models import Organization, Task
from tenure.customers.organizations import create_organization
from tenure.customers.schemas import OrganizationCreate, PersonCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.timeline.append import append_events
from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

TODAY = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
PASSWORD = "orgs-password-1"
WIDER_THAN_VIEWPORT = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""


@pytest.fixture
def office(fresh_database_url: str) -> Iterator[dict]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        fix_now(session, TODAY)
        users = {
            role: create_user(
                session=session,
                email=f"{role}@example.com",
                role=role,
                password=PASSWORD,
                name=name,
            )
            for role, name in [
                ("admin", "Ada Admin"),
                ("sales", "Rita Rep"),
                ("analyst", "Al Analyst"),
            ]
        }
        curie = create_organization(
            session=session, data=OrganizationCreate(name="Curie Labs"), actor=None
        )
        person = create_person(
            session=session,
            data=PersonCreate(first_name="Marie", last_name="Curie", organization_id=curie.id),
            actor_id=None,
            default_region="US",
        )
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "occurred_at": "2026-03-02T10:00:00Z",
                    "person_id": person.id,
                    "amount_minor": 8000,
                    "currency": "EUR",
                }
            ],
            actor_id=None,
        )
        ids = {role: u.id for role, u in users.items()}
    yield {"url": fresh_database_url, "engine": engine, "users": ids}
    engine.dispose()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TENURE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, base: str, path: str, role: str) -> None:
    log_in(page, base + path, f"{role}@example.com", PASSWORD)


def _both_widths(page, shots: Path, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name}: {width}px at 390px: {page.evaluate(WIDER_THAN_VIEWPORT)}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_create_log_note_assign_and_delete_an_organization(office, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    with running_server(office["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, "/organizations", "admin")
        expect(page).to_have_url(base + "/organizations")
        # The list's roll-up: Marie's order is Curie Labs' revenue.
        curie = page.locator("#organizations tr", has_text="Curie Labs")
        expect(curie.locator("td").nth(3)).to_have_text("1")
        expect(curie).to_contain_text("80.00 EUR")
        expect(curie).to_contain_text("2026-03-02")

        # Create: a refused domain is named in words and what was typed stays.
        page.click("#new-organization summary")
        form = page.locator("#new-organization form")
        form.locator("input[name=name]").fill("Radium Works")
        form.locator("input[name=domain]").fill("not a domain")
        form.locator("select[name=owner_id]").select_option(str(office["users"]["sales"]))
        form.locator("input[name=tags]").fill("b2b, lab")
        page.get_by_role("button", name="Create organization").click()
        expect(page.locator("#organization-error")).to_have_text(
            "Domain: is not a domain name (like example.com)"
        )
        expect(form.locator("input[name=name]")).to_have_value("Radium Works")
        expect(form.locator("select[name=owner_id]")).to_have_value(str(office["users"]["sales"]))
        form.locator("input[name=domain]").fill("radium.example")
        page.get_by_role("button", name="Create organization").click()
        expect(page.locator("h1")).to_have_text("Radium Works")
        match = re.search(r"/organizations/(\d+)$", page.url)
        assert match, page.url
        org_path = f"/organizations/{match.group(1)}"
        expect(page.locator(".sub")).to_contain_text("radium.example")
        expect(page.locator(".sub")).to_contain_text("Owner: Rita Rep")

        # Edit inline: a pasted address is stored as its domain.
        page.click("#edit-organization summary")
        page.fill("#edit-organization input[name=domain]", "https://www.Radium-Works.example/")
        page.get_by_role("button", name="Save changes").click()
        expect(page.locator(".sub")).to_contain_text("radium-works.example")

        # Log a call on the organization: on its own timeline, with its outcome.
        timeline = page.locator("#timeline .timeline")
        page.click("#log-activity summary")
        page.select_option("#log-activity select[name=kind]", "call")
        page.select_option("#log-activity select[name=direction]", "inbound")
        page.fill("#log-activity input[name=outcome]", "Asked for a quote")
        page.fill("#log-activity input[name=duration_minutes]", "15")
        page.fill("#log-activity input[name=notes]", "Forty seats, starting in May")
        page.get_by_role("button", name="Log activity").click()
        call = timeline.locator(".event-call")
        expect(call).to_contain_text("Inbound call")
        expect(call).to_contain_text("Asked for a quote · 15 min")
        expect(call).to_contain_text("Forty seats, starting in May")
        expect(call.locator("time")).to_contain_text("2026-03-10")  # the workspace's today

        # A note lands on the timeline too (and in the notes card).
        page.fill("#notes textarea[name=body]", "Budget approved by the board.")
        page.get_by_role("button", name="Add note").click()
        expect(timeline.locator(".event-note_added")).to_contain_text(
            "Budget approved by the board."
        )
        expect(page.locator("#notes")).to_contain_text("Budget approved by the board.")
        expect(page.locator("#rollup")).to_contain_text("2026-03-10")  # last activity

        # A task for Rita, due today.
        page.fill("#tasks input[name=title]", "Send the quote")
        page.fill("#tasks input[name=due]", "2026-03-10")
        page.select_option("#tasks select[name=assignee_id]", str(office["users"]["sales"]))
        page.get_by_role("button", name="Add task").click()
        expect(page.locator("#tasks li", has_text="Send the quote")).to_contain_text("Rita Rep")
        expect(page.locator("#rollup dd").nth(3)).to_have_text("1")
        _both_widths(page, shots, "organization-admin")
        page.goto(base + "/organizations")
        _both_widths(page, shots, "organizations-admin")
        page.get_by_role("button", name="Log out").click()

        # Rita finds it on her My work page, linked to the organization.
        _log_in(page, base, "/tasks", "sales")
        expect(page).to_have_url(base + "/tasks")
        task = page.locator("#bucket-today li.task", has_text="Send the quote")
        expect(task.get_by_role("link", name="Radium Works")).to_have_attribute("href", org_path)
        page.get_by_role("button", name="Log out").click()

        # An analyst reads everything and finds no control to change it.
        _log_in(page, base, org_path, "analyst")
        expect(page.locator("#timeline .event-call")).to_contain_text("Asked for a quote")
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.locator("#edit-organization, #log-activity")).to_have_count(0)
        _both_widths(page, shots, "organization-analyst")
        page.goto(base + "/organizations")
        expect(page.locator("#new-organization")).to_have_count(0)
        page.get_by_role("button", name="Log out").click()

        # Delete, after a page saying what goes with it.
        _log_in(page, base, org_path, "admin")
        page.click("#edit-organization summary")
        page.get_by_role("link", name="Delete this organization…").click()
        expect(page.locator("h1")).to_have_text("Delete Radium Works?")
        page.get_by_role("button", name="Delete Radium Works").click()
        expect(page).to_have_url(base + "/organizations")
        expect(page.locator("#organizations")).not_to_contain_text("Radium Works")
        assert not errors, errors
        browser.close()

    with unit_of_work(make_session_factory(office["engine"])) as session:
        assert (
            session.scalar(select(Organization).where(Organization.name == "Radium Works")) is None
        )
        org_id = int(org_path.rsplit("/", 1)[1])
        assert session.scalars(select(Event).where(Event.organization_id == org_id)).all() == []
        assert session.scalars(select(Task).where(Task.organization_id == org_id)).all() == []
        audit = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "organization", AuditEntry.entity_id == str(org_id))
            .order_by(AuditEntry.id)
        ).all()
        assert audit == ["create", "update", "delete"]
