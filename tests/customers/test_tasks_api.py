"""My work over HTTP: whose tasks one may list, due buckets from the workspace clock,
reassign, reschedule, complete and reopen (audited), and read-only roles refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tenure.identity.models import AuditEntry
from tenure.workspace.clock import fix_now

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _setup(client, admin, session):
    fix_now(session, NOW)
    session.commit()
    person = client.post("/api/v1/people", json={"first_name": "Marie"}, headers=admin.headers)
    return person.json()["id"]


def _task(client, admin, person_id, title, assignee_id, due_at=None):
    body = {"title": title, "assignee_id": assignee_id, "due_at": due_at}
    response = client.post(f"/api/v1/people/{person_id}/tasks", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_tasks_are_mine_by_default_and_bucketed_by_the_clock(client, admin, api_user, session):
    person_id = _setup(client, admin, session)
    rep = api_user("sales")
    overdue = _task(client, admin, person_id, "Send quote", rep.id, "2026-03-09T00:00:00Z")
    today = _task(client, admin, person_id, "Call back", rep.id, "2026-03-10T00:00:00Z")
    later = _task(client, admin, person_id, "Renewal", rep.id, "2026-03-11T00:00:00Z")
    undated = _task(client, admin, person_id, "Someday", rep.id)
    _task(client, admin, person_id, "Admin's own", admin.id, "2026-03-01T00:00:00Z")

    body = client.get("/api/v1/tasks", headers=rep.headers).json()
    assert datetime.fromisoformat(body["today"]) == NOW
    got = [(t["id"], t["bucket"]) for t in body["items"]]
    assert got == [
        (overdue, "overdue"),
        (today, "today"),
        (later, "upcoming"),
        (undated, "upcoming"),
    ]
    assert body["items"][0]["person_name"] == "Marie"

    due_today = client.get("/api/v1/tasks", params={"due": "today"}, headers=rep.headers).json()
    assert [t["id"] for t in due_today["items"]] == [today]


def test_only_admins_and_managers_see_others_tasks(client, admin, api_user, session):
    person_id = _setup(client, admin, session)
    rep = api_user("sales")
    manager = api_user("manager")
    task_id = _task(client, admin, person_id, "Follow up", rep.id)

    refused = client.get("/api/v1/tasks", params={"assignee_id": admin.id}, headers=rep.headers)
    assert refused.status_code == 403
    assert client.get("/api/v1/tasks?everyone=true", headers=rep.headers).status_code == 403

    theirs = client.get(
        "/api/v1/tasks", params={"assignee_id": rep.id}, headers=manager.headers
    ).json()
    assert [t["id"] for t in theirs["items"]] == [task_id]
    everyone = client.get("/api/v1/tasks?everyone=true", headers=manager.headers).json()
    assert task_id in [t["id"] for t in everyone["items"]]


def test_reassign_reschedule_complete_and_reopen_are_audited(client, admin, api_user, session):
    person_id = _setup(client, admin, session)
    rep = api_user("sales")
    task_id = _task(client, admin, person_id, "Follow up", admin.id)

    moved = client.patch(
        f"/api/v1/tasks/{task_id}",
        json={"assignee_id": rep.id, "due_at": "2026-03-12T00:00:00Z"},
        headers=admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == rep.id
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=rep.headers).json()["items"]] == [
        task_id
    ]

    done = client.patch(f"/api/v1/tasks/{task_id}", json={"done": True}, headers=rep.headers)
    assert datetime.fromisoformat(done.json()["done_at"]) == NOW
    assert client.get("/api/v1/tasks", headers=rep.headers).json()["items"] == []
    finished = client.get("/api/v1/tasks?status=done", headers=rep.headers).json()["items"]
    assert [(t["id"], t["bucket"]) for t in finished] == [(task_id, "done")]

    reopened = client.patch(f"/api/v1/tasks/{task_id}", json={"done": False}, headers=rep.headers)
    assert reopened.json()["done_at"] is None

    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "task", AuditEntry.entity_id == str(task_id))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update", "update", "update"]
    assert entries[1].changes["assignee_id"] == {"before": admin.id, "after": rep.id}
    assert entries[2].actor_id == rep.id and entries[2].changes["done_at"]["before"] is None
    assert entries[3].changes["done_at"]["after"] is None


def test_bad_updates_name_the_field_and_analysts_are_refused(client, admin, api_user, session):
    person_id = _setup(client, admin, session)
    task_id = _task(client, admin, person_id, "Follow up", admin.id)
    url = f"/api/v1/tasks/{task_id}"
    for body, field in [
        ({"assignee_id": 999999}, "assignee_id"),
        ({"due_at": "2026-03-12T00:00:00"}, "due_at"),
        ({"title": ""}, "title"),
        ({"done": "maybe"}, "done"),
        ({"colour": "red"}, "colour"),
    ]:
        response = client.patch(url, json=body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    assert (
        client.patch("/api/v1/tasks/999999", json={"done": True}, headers=admin.headers).status_code
        == 404
    )
    assert client.get("/api/v1/tasks?status=later", headers=admin.headers).status_code == 422

    analyst = api_user("analyst")
    assert client.get("/api/v1/tasks", headers=analyst.headers).status_code == 200
    refused = client.patch(url, json={"done": True}, headers=analyst.headers)
    assert refused.status_code == 403
    reader = api_user("sales", scope="read")
    assert client.patch(url, json={"done": True}, headers=reader.headers).status_code == 403
