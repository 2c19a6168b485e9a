"""A day's work in Chromium: log a call and add a note (both on the timeline, in words),
assign a task to a colleague, who finds it on My work and completes it; an analyst sees
the same lists without a single form."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.activities import create_task
from tenure.customers.models import Task
from tenure.customers.schemas import PersonCreate, TaskCreate
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.retention.alerts import task_text
from tenure.retention.risk import Assessment
from tenure.retention.schemas import RetentionConfig
from tenure.timeline.append import append_events
from tenure.workspace.clock import fix_now
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

TODAY = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
PASSWORD = "work-password-1"
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
        person = create_person(
            session=session,
            data=PersonCreate(first_name="Marguerite", last_name="Perey"),
            actor_id=users["admin"].id,
            default_region="US",
        )
        rock = {"category": "Rock", "unit_price_minor": 1000}
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "occurred_at": "2026-02-03T15:04:00Z",
                    "person_id": person.id,
                    "channel": "web",
                    "amount_minor": 8000,
                    "currency": "EUR",
                    "items": [rock] * 7 + [{"category": "Jazz", "unit_price_minor": 1000}],
                }
            ],
            actor_id=None,
        )
        # The task the retention refresh raises for a valuable customer at risk (its own
        # words), and one more for the rep, which the read-only analyst must see on the
        # person page without any button (a task is never given to a read-only role).
        at_risk = Assessment(
            person_id=person.id,
            risk=0.72,
            reasons=[{"text": "No order for 35 days, twice the usual gap"}],
            signals={},
            value_minor=48000,
            currency="EUR",
        )
        title, reason = task_text("Marguerite Perey", at_risk, RetentionConfig(), TODAY)
        for task_title, description, assignee, due in [
            (title, reason, users["sales"].id, datetime(2026, 3, 8, tzinfo=UTC)),
            ("Check the cohort report", "", users["sales"].id, None),
        ]:
            create_task(
                session=session,
                data=TaskCreate(
                    title=task_title, description=description, assignee_id=assignee, due_at=due
                ),
                actor_id=None,
                person_id=person.id,
            )
        ids = {role: u.id for role, u in users.items()}
    yield {"url": fresh_database_url, "engine": engine, "person_id": person.id, "users": ids}
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


def test_log_note_assign_and_complete_on_my_work(office, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    person_path = f"/people/{office['person_id']}"
    with running_server(office["url"]) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, base, person_path, "admin")
        expect(page).to_have_url(base + person_path)
        timeline = page.locator("#timeline .timeline")
        # The order reads as quantities, not seven "1 x Rock"
        expect(timeline.locator(".event-order")).to_contain_text("7 \u00d7 Rock · 1 \u00d7 Jazz")

        # Log a call
        page.click("#log-activity summary")
        page.select_option("#log-activity select[name=kind]", "call")
        page.select_option("#log-activity select[name=direction]", "inbound")
        page.fill("#log-activity input[name=outcome]", "Agreed to a demo")
        page.fill("#log-activity input[name=duration_minutes]", "20")
        page.fill("#log-activity input[name=notes]", "Wants pricing for the shop")
        page.get_by_role("button", name="Log activity").click()
        call = timeline.locator(".event-call")
        expect(call).to_contain_text("Inbound call")
        expect(call).to_contain_text("Agreed to a demo · 20 min")
        expect(call).to_contain_text("Wants pricing for the shop")
        expect(call.locator("time")).to_contain_text("2026-03-10")  # the workspace's today

        # Add a note: it is on the timeline too
        page.fill("textarea[name=body]", "Prefers a call after 5 pm.")
        page.get_by_role("button", name="Add note").click()
        expect(timeline.locator(".event-note_added")).to_contain_text("Prefers a call after 5 pm.")

        # The timeline filters by channel
        page.select_option("#timeline select[name=channel]", "phone")
        expect(timeline.locator(".event")).to_have_count(1)
        expect(timeline.locator(".event")).to_contain_text("Inbound call")
        page.goto(base + person_path)

        # Assign a task, due today, to Rita
        page.fill("#tasks input[name=title]", "Send the demo invite")
        page.fill("#tasks input[name=due]", "2026-03-10")
        page.select_option("#tasks select[name=assignee_id]", str(office["users"]["sales"]))
        page.get_by_role("button", name="Add task").click()
        expect(page.locator("#tasks")).to_contain_text("Send the demo invite")
        expect(page.locator("#tasks")).to_contain_text("Rita Rep")
        _both_widths(page, shots, "person-admin")

        # Everyone's tasks, as an admin
        page.goto(base + "/tasks?assignee=all")
        expect(page.locator("#bucket-today")).to_contain_text("Send the demo invite")
        expect(page.locator("#bucket-today")).to_contain_text("Rita Rep")
        _both_widths(page, shots, "tasks-admin")
        page.get_by_role("button", name="Log out").click()

        # Rita finds it on her My work page, with the badge in the top bar
        _log_in(page, base, "/people", "sales")
        expect(page.locator("#tasks-due")).to_have_text("2")  # due today + the overdue alert
        page.get_by_role("link", name="My work").click()
        expect(page).to_have_url(base + "/tasks")
        alert = page.locator("#bucket-overdue li.task")
        expect(alert).to_contain_text("Retention risk: Marguerite Perey (72% risk")
        expect(alert.locator(".task-reason")).to_contain_text(
            "No order for 35 days, twice the usual gap"
        )
        _both_widths(page, shots, "tasks-sales")
        task = page.locator("#bucket-today li.task", has_text="Send the demo invite")
        expect(task).to_contain_text("Marguerite Perey")
        task.get_by_role("button", name="Complete").click()
        expect(page.locator("li.task", has_text="Send the demo invite")).to_have_count(0)
        expect(page.locator("#tasks-due")).to_have_text("1")
        page.select_option("select[name=status]", "done")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#bucket-done")).to_contain_text("Send the demo invite")
        page.get_by_role("button", name="Log out").click()

        # An analyst sees the lists and the timeline, and no form or button to change them
        _log_in(page, base, person_path, "analyst")
        expect(timeline.locator(".event-call")).to_contain_text("Agreed to a demo")
        expect(page.locator("#log-activity")).to_have_count(0)
        expect(page.locator("#notes form, #tasks form")).to_have_count(0)
        expect(page.locator("#tasks")).to_contain_text("Check the cohort report")
        expect(page.locator("#tasks button")).to_have_count(0)
        _both_widths(page, shots, "person-analyst")
        page.goto(base + "/tasks")
        expect(page.locator("h1")).to_have_text("My work")
        expect(page.locator("li.task")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("No open tasks assigned to you")
        expect(page.locator("main form[method=post], main button:not([type])")).to_have_count(0)
        expect(page.get_by_role("button", name="Complete")).to_have_count(0)
        _both_widths(page, shots, "tasks-analyst")
        assert not errors, errors
        browser.close()

    with unit_of_work(make_session_factory(office["engine"])) as session:
        task_row = session.scalar(select(Task).where(Task.title == "Send the demo invite"))
        assert task_row is not None
        assert task_row.assignee_id == office["users"]["sales"]
        assert task_row.done_at == TODAY
        completed = session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_type == "task",
                AuditEntry.entity_id == str(task_row.id),
                AuditEntry.action == "update",
            )
        )
        assert completed is not None and completed.actor_id == office["users"]["sales"]
