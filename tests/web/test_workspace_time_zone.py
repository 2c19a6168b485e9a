"""The workspace's time zone decides what "today" is and how pages show dates.

The workspace is in America/Los_Angeles (UTC-7 in March 2026, daylight time) and its clock
stands at 2026-03-10 03:00 UTC: already the 10th in UTC, still the evening of the 9th in
Los Angeles. Every task below falls in a different bucket judged in UTC than in the zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.activities import create_task
from tenure.customers.models import Task
from tenure.customers.schemas import PersonCreate, TaskCreate
from tenure.identity.actions import create_user
from tenure.workspace.clock import fix_now
from tenure.workspace.queries import ensure_workspace
from tests.pages import csrf_token, log_in

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 2026-03-09 20:00 in Los Angeles
ZONE = "America/Los_Angeles"
# title: (due, bucket in Los Angeles); the UTC bucket differs for each.
TASKS = {
    # 2026-03-08 23:00 local: overdue there, and in UTC (the 9th) too.
    "Overdue there": (datetime(2026, 3, 9, 6, 0, tzinfo=UTC), "overdue"),
    # 2026-03-09 05:00 local: today there, yesterday (overdue) in UTC.
    "Today there, overdue in UTC": (datetime(2026, 3, 9, 12, 0, tzinfo=UTC), "today"),
    # 2026-03-10 01:00 local: tomorrow there, today in UTC.
    "Tomorrow there, today in UTC": (datetime(2026, 3, 10, 8, 0, tzinfo=UTC), "upcoming"),
}


def _world(session, zone: str = ZONE) -> tuple[int, int, dict[str, int]]:
    fix_now(session, NOW)
    ensure_workspace(session).time_zone = zone
    user = create_user(
        session=session, email="rep@example.com", role="sales", password="pass-word-123"
    )
    person = create_person(
        session=session, data=PersonCreate(first_name="Ida"), actor_id=None, default_region="US"
    )
    ids = {
        title: create_task(
            session=session,
            data=TaskCreate(title=title, assignee_id=user.id, due_at=due),
            actor_id=user.id,
            person_id=person.id,
        ).id
        for title, (due, _) in TASKS.items()
    }
    session.commit()
    return user.id, person.id, ids


def _log_in(client) -> None:
    log_in(client, "rep@example.com", "pass-word-123")


def _bucket_of_titles(html: str) -> dict[str, str]:
    found = {}
    for key, section in re.findall(r'id="bucket-(\w+)">(.*?)</section>', html, flags=re.DOTALL):
        for title in re.findall(r'class="task-title">([^<]+)<', section):
            found[title] = key
    return found


def test_my_work_judges_today_in_the_workspace_zone(client, session):
    _world(session)
    _log_in(client)
    page = client.get("/tasks").text
    assert _bucket_of_titles(page) == {title: bucket for title, (_, bucket) in TASKS.items()}
    # Today, and every due date, are the Los Angeles days.
    assert 'Today in this workspace: <time datetime="2026-03-10T03:00:00+00:00">2026-03-09' in page
    assert "due 2026-03-08" in page and "due 2026-03-09" in page
    # The form's date field holds the local day too, so saving it keeps the day.
    assert 'value="2026-03-08"' in page
    # The top bar's badge counts overdue and due today there: two.
    assert 'id="tasks-due" title="2 of my tasks due today or overdue"' in page


def test_the_api_and_home_use_the_same_zone(client, session, api_user):
    _world(session)
    rep = api_user("sales")
    # Give the rep with a token the same tasks, through the API.
    person_id = client.post(
        "/api/v1/people", json={"first_name": "Ola"}, headers=rep.headers
    ).json()["id"]
    for title, (due, _) in TASKS.items():
        client.post(
            f"/api/v1/people/{person_id}/tasks",
            json={"title": title, "assignee_id": rep.id, "due_at": due.isoformat()},
            headers=rep.headers,
        )
    body = client.get("/api/v1/tasks", headers=rep.headers).json()
    assert {t["title"]: t["bucket"] for t in body["items"]} == {
        title: bucket for title, (_, bucket) in TASKS.items()
    }
    today = client.get("/api/v1/tasks", params={"due": "today"}, headers=rep.headers).json()
    assert [t["title"] for t in today["items"]] == ["Today there, overdue in UTC"]
    home = client.get("/api/v1/home", params={"scope": "mine"}, headers=rep.headers)
    assert home.status_code == 200, home.text
    tasks = home.json()["tasks"]
    assert (tasks["overdue"], tasks["today"], tasks["upcoming"]) == (1, 1, 1)


def test_in_utc_the_same_tasks_fall_in_other_buckets(client, session):
    """The control: the same instants judged in a UTC workspace (the zone is what moved
    them above, not the clock)."""
    _world(session, zone="UTC")
    _log_in(client)
    page = client.get("/tasks").text
    assert _bucket_of_titles(page) == {
        "Overdue there": "overdue",
        "Today there, overdue in UTC": "overdue",
        "Tomorrow there, today in UTC": "today",
    }
    assert "2026-03-10</time>" in page


def test_a_due_date_typed_in_a_form_is_that_day_in_the_workspace_zone(client, session):
    _, person_id, _ = _world(session)
    _log_in(client)
    token = csrf_token(client.get(f"/people/{person_id}").text)
    client.post(
        f"/people/{person_id}/tasks",
        data={"csrf_token": token, "title": "Typed due", "due": "2026-03-09"},
    )
    task = session.scalars(select(Task).where(Task.title == "Typed due")).one()
    # Local midnight of the 9th in Los Angeles (UTC-8 until 2026-03-08, UTC-7 after).
    assert task.due_at == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    page = client.get("/tasks").text
    assert _bucket_of_titles(page)["Typed due"] == "today"
    person_page = client.get(f"/people/{person_id}").text
    assert "due 2026-03-09" in person_page
