"""The forms behind the person page's activity log and My work, through the real app."""

from __future__ import annotations

from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.activities import create_task
from tenure.customers.models import Task
from tenure.customers.schemas import PersonCreate, TaskCreate
from tenure.identity.actions import create_user
from tenure.timeline.models import Event
from tests.pages import csrf_token, log_in


def _world(session):
    users = {
        role: create_user(
            session=session, email=f"{role}@example.com", role=role, password="pass-word-123"
        )
        for role in ("admin", "sales", "analyst")
    }
    person = create_person(
        session=session, data=PersonCreate(first_name="Ida"), actor_id=None, default_region="US"
    )
    task = create_task(
        session=session,
        data=TaskCreate(title="Call Ida", assignee_id=users["sales"].id),
        actor_id=None,
        person_id=person.id,
    )
    session.commit()
    return users, person.id, task.id


def test_activity_form_logs_an_event_and_names_a_bad_field(client, session):
    _, person_id, _ = _world(session)
    log_in(client, "admin@example.com", "pass-word-123")
    token = csrf_token(client.get(f"/people/{person_id}").text)
    form = {"csrf_token": token, "kind": "meeting", "outcome": "Signed", "direction": "inbound"}

    bad = client.post(
        f"/people/{person_id}/activities", data={**form, "duration_minutes": "an hour"}
    )
    assert bad.status_code == 422 and "duration_minutes" in bad.text
    bad_kind = client.post(f"/people/{person_id}/activities", data={**form, "kind": "fax"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text
    assert session.scalars(select(Event).where(Event.type == "meeting")).first() is None

    ok = client.post(
        f"/people/{person_id}/activities",
        data={**form, "duration_minutes": "45"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    event = session.scalars(select(Event).where(Event.type == "meeting")).one()
    assert (event.person_id, event.payload["duration_minutes"]) == (person_id, 45)
    page = client.get(f"/people/{person_id}?type=meeting").text
    assert "Inbound meeting" in page and "Signed · 45 min" in page


def test_my_work_refuses_analysts_and_other_peoples_lists(client, session):
    users, _, task_id = _world(session)
    log_in(client, "analyst@example.com", "pass-word-123")
    token = csrf_token(client.get("/tasks").text)
    refused = client.post(f"/tasks/{task_id}/done", data={"csrf_token": token})
    assert refused.status_code == 403
    assert session.get(Task, task_id).done_at is None
    assert client.get(f"/tasks?assignee={users['sales'].id}").status_code == 403
    assert client.get("/tasks?assignee=all").status_code == 403

    client.post("/logout", data={"csrf_token": token})
    log_in(client, "admin@example.com", "pass-word-123")
    assert "Call Ida" in client.get(f"/tasks?assignee={users['sales'].id}").text
    assert "Call Ida" not in client.get("/tasks").text  # mine by default
    token = csrf_token(client.get("/tasks").text)
    moved = client.post(
        f"/tasks/{task_id}/assign",
        data={"csrf_token": token, "assignee_id": str(users["admin"].id), "due": "2026-04-01"},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/tasks"
    session.expire_all()
    task = session.get(Task, task_id)
    assert task.assignee_id == users["admin"].id and task.due_at.date().isoformat() == "2026-04-01"
    evil = client.post(
        f"/tasks/{task_id}/done",
        data={"csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/tasks"  # no open redirect


def test_everyones_tasks_show_a_page_per_bucket_with_the_real_counts(client, session):
    users, person_id, _ = _world(session)
    # Overdue: due long before the workspace's today. 60 of sales', 3 nobody's.
    for n in range(60):
        create_task(
            session=session,
            data=TaskCreate(
                title=f"Old task {n:02d}",
                assignee_id=users["sales"].id,
                due_at="2000-01-01T09:00:00Z",
            ),
            actor_id=None,
            person_id=person_id,
        )
    for n in range(3):
        create_task(
            session=session,
            data=TaskCreate(title=f"Orphan {n}", due_at="2000-01-01T09:00:00Z"),
            actor_id=None,
            person_id=person_id,
        )
    session.commit()
    log_in(client, "admin@example.com", "pass-word-123")

    everyone = client.get("/tasks?assignee=all").text
    overdue = everyone.split('id="bucket-overdue"')[1].split("</section>")[0]
    assert "(63)" in overdue  # the count is every task, not the rows shown
    assert overdue.count('class="task ') == 50
    assert "Show all 63 overdue" in overdue
    upcoming = everyone.split('id="bucket-upcoming"')[1].split("</section>")[0]
    assert "Call Ida" in upcoming and "Show all" not in upcoming

    whole = client.get("/tasks?assignee=all&status=open&bucket=overdue").text
    assert whole.count('class="task ') == 63 and 'id="bucket-upcoming"' not in whole

    nobodys = client.get("/tasks?assignee=none").text
    assert nobodys.count('class="task ') == 3 and "Unassigned tasks" in nobodys
    assert "Old task" not in nobodys
    assert client.get("/tasks?assignee=all&bucket=someday").status_code == 422


def test_an_unassigned_task_is_not_preset_to_the_first_user(client, session):
    _, person_id, _ = _world(session)
    create_task(
        session=session, data=TaskCreate(title="Nobody's yet"), actor_id=None, person_id=person_id
    )
    session.commit()
    log_in(client, "admin@example.com", "pass-word-123")
    page = client.get("/tasks?assignee=none").text
    picker = page.split('name="assignee_id"')[1].split("</select>")[0]
    assert '<option value="" selected>Unassigned: pick someone</option>' in picker
    assert picker.count("selected") == 1
