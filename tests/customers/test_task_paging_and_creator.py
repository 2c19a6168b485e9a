"""``GET /api/v1/tasks`` pages by keyset and never cuts silently; every task answer and
task list names who created it (``created_by``), on the API and on the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.activities import create_task
from tenure.customers.models import Task
from tenure.customers.organizations import create_organization
from tenure.customers.schemas import OrganizationCreate, PersonCreate, TaskCreate
from tenure.db.paging import encode_cursor
from tenure.identity.actions import create_user
from tenure.identity.models import User
from tenure.workspace.clock import fix_now
from tests.pages import csrf_token, log_in

NOW = datetime(1998, 7, 1, tzinfo=UTC)


def _person(session) -> int:
    person = create_person(
        session=session, data=PersonCreate(first_name="Ida"), actor_id=None, default_region="US"
    )
    return person.id


def _all_pages(client, headers, limit: int) -> tuple[list[int], int]:
    """Every task id, following ``next_cursor``; also how many pages it took."""
    ids: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict = {"everyone": "true", "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/tasks", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        assert len(body["items"]) <= limit
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages


def test_tasks_page_by_keyset_in_due_order_with_ties_and_undated(client, admin, session):
    fix_now(session, NOW)
    person_id = _person(session)
    due = [
        NOW + timedelta(days=2),
        NOW - timedelta(days=1),
        NOW + timedelta(days=2),  # the same due time: the id breaks the tie
        None,
        NOW + timedelta(days=2),
        None,
        NOW,
    ]
    for number, due_at in enumerate(due):
        create_task(
            session=session,
            data=TaskCreate(title=f"t{number}", assignee_id=admin.id, due_at=due_at),
            actor_id=admin.id,
            person_id=person_id,
        )
    session.commit()
    expected = [
        task.id
        for task in session.scalars(
            select(Task).order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        )
    ]
    assert len(expected) == 7

    for limit, want_pages in ((1, 7), (2, 4), (3, 3), (7, 1)):
        ids, pages = _all_pages(client, admin.headers, limit)
        assert ids == expected, limit
        assert pages == want_pages, limit
    whole = client.get(
        "/api/v1/tasks", params={"everyone": "true", "limit": 50}, headers=admin.headers
    ).json()
    assert [t["id"] for t in whole["items"]] == expected
    assert whole["next_cursor"] is None


def test_more_than_500_tasks_come_with_a_next_cursor_never_cut(client, admin, session):
    fix_now(session, NOW)
    person_id = _person(session)
    session.add_all(
        Task(
            person_id=person_id,
            title=f"bulk {n}",
            assignee_id=admin.id,
            due_at=NOW + timedelta(minutes=n),
            created_at=NOW,
        )
        for n in range(503)
    )
    session.commit()

    first = client.get("/api/v1/tasks", params={"limit": 500}, headers=admin.headers).json()
    assert len(first["items"]) == 500 and first["next_cursor"]
    rest = client.get(
        "/api/v1/tasks",
        params={"limit": 500, "cursor": first["next_cursor"]},
        headers=admin.headers,
    ).json()
    assert [t["title"] for t in rest["items"]] == ["bulk 500", "bulk 501", "bulk 502"]
    assert rest["next_cursor"] is None
    # The default page is 50, with the cursor to go on.
    default = client.get("/api/v1/tasks", headers=admin.headers).json()
    assert len(default["items"]) == 50 and default["next_cursor"]


def test_bad_paging_parameters_name_the_field(client, admin):
    bad_cursor = client.get("/api/v1/tasks", params={"cursor": "nope"}, headers=admin.headers)
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.text
    too_many = client.get("/api/v1/tasks", params={"limit": 501}, headers=admin.headers)
    assert too_many.status_code == 422 and "limit" in too_many.text
    # A cursor of another list (people sort by name: a string) is refused, not compared.
    other = client.get(
        "/api/v1/tasks", params={"cursor": encode_cursor("Smith", 3)}, headers=admin.headers
    )
    assert other.status_code == 422 and "cursor" in other.text


def test_the_api_names_the_creator_of_a_task(client, admin, api_user, session):
    fix_now(session, NOW)
    session.get(User, admin.id).name = "Ana Sales"
    person_id = _person(session)
    rep = api_user("sales")
    by_cli = create_task(
        session=session,
        data=TaskCreate(title="From the CLI", assignee_id=rep.id),
        actor_id=None,
        person_id=person_id,
    )
    session.commit()

    created = client.post(
        f"/api/v1/people/{person_id}/tasks",
        json={"title": "Call back", "assignee_id": rep.id},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["created_by_id"] == admin.id
    assert created.json()["created_by"] == "Ana Sales"
    task_id = created.json()["id"]
    assert session.get(Task, task_id).created_by_id == admin.id

    mine = client.get("/api/v1/tasks", headers=rep.headers).json()["items"]
    by_id = {t["id"]: t for t in mine}
    assert by_id[task_id]["created_by"] == "Ana Sales"
    assert by_id[task_id]["created_by_id"] == admin.id
    assert by_id[by_cli.id]["created_by"] is None and by_id[by_cli.id]["created_by_id"] is None

    listed = client.get(f"/api/v1/people/{person_id}/tasks", headers=rep.headers).json()
    assert {t["id"]: t["created_by"] for t in listed} == {task_id: "Ana Sales", by_cli.id: None}
    # The rep (no name) reassigns it: the creator stays.
    moved = client.patch(
        f"/api/v1/tasks/{task_id}", json={"assignee_id": admin.id}, headers=rep.headers
    )
    assert moved.json()["created_by"] == "Ana Sales"


def test_pages_show_who_created_each_task_and_when(client, session):
    fix_now(session, NOW)
    ana = create_user(
        session=session,
        email="ana@example.com",
        role="admin",
        password="pass-word-123",
        name="Ana Sales",
    )
    person_id = _person(session)
    session.commit()
    log_in(client, "ana@example.com", "pass-word-123")
    token = csrf_token(client.get(f"/people/{person_id}").text)
    added = client.post(
        f"/people/{person_id}/tasks",
        data={"csrf_token": token, "title": "Send the catalogue", "assignee_id": str(ana.id)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    task = session.scalars(select(Task).where(Task.title == "Send the catalogue")).one()
    assert task.created_by_id == ana.id

    line = "Created by Ana Sales on 1 Jul 1998"
    assert line in client.get("/tasks").text
    assert line in client.get(f"/people/{person_id}").text
    org_id = create_organization(
        session=session, data=OrganizationCreate(name="Acme"), actor=None
    ).id
    token = csrf_token(client.get(f"/organizations/{org_id}").text)
    client.post(
        f"/organizations/{org_id}/tasks",
        data={"csrf_token": token, "title": "Renew the account", "assignee_id": str(ana.id)},
    )
    org_page = client.get(f"/organizations/{org_id}").text
    assert "Renew the account" in org_page
    assert line in org_page


def test_my_works_bucket_pages_on_instead_of_stopping_at_500(client, session):
    fix_now(session, NOW)
    rep = create_user(
        session=session, email="rep@example.com", role="sales", password="pass-word-123"
    )
    person_id = _person(session)
    session.add_all(
        Task(
            person_id=person_id,
            title=f"late {n:03d}",
            assignee_id=rep.id,
            due_at=NOW - timedelta(days=30) + timedelta(minutes=n),
            created_at=NOW,
        )
        for n in range(503)
    )
    session.commit()
    log_in(client, "rep@example.com", "pass-word-123")
    first = client.get("/tasks", params={"bucket": "overdue"}).text
    titles = re.findall(r'class="task-title">([^<]+)<', first)
    assert len(titles) == 500 and titles[0] == "late 000" and titles[-1] == "late 499"
    assert "Showing 500 of 503" in first
    next_url = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert next_url
    rest = client.get(next_url.group(1).replace("&amp;", "&")).text
    assert re.findall(r'class="task-title">([^<]+)<', rest) == ["late 500", "late 501", "late 502"]
    assert 'rel="next"' not in rest
    bad = client.get("/tasks", params={"bucket": "overdue", "cursor": "nope"})
    assert bad.status_code == 422 and "cursor" in bad.text
