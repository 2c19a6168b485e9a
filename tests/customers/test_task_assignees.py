"""A task is never given to a read-only role: the action, the API, the pages and retention."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tenure.customers.actions import create_person
from tenure.customers.activities import create_task
from tenure.customers.models import Task
from tenure.customers.schemas import PersonCreate, TaskCreate
from tenure.errors import InvalidInput
from tenure.identity.actions import create_user
from tests.conftest import make_api_user
from tests.pages import log_in

PASSWORD = "pass-word-123"


@pytest.fixture
def office(session):
    users = {
        role: create_user(
            session=session, email=f"{role}@example.com", role=role, password=PASSWORD
        )
        for role in ("admin", "sales", "analyst")
    }
    person = create_person(
        session=session, data=PersonCreate(first_name="Ida"), actor_id=None, default_region="US"
    )
    session.commit()
    return users, person.id


def test_the_action_refuses_an_analyst_assignee(session, office):
    users, person_id = office
    with pytest.raises(InvalidInput) as refused:
        create_task(
            session=session,
            data=TaskCreate(title="Check", assignee_id=users["analyst"].id),
            actor_id=None,
            person_id=person_id,
        )
    assert refused.value.field == "assignee_id" and "read-only" in refused.value.reason
    task = create_task(
        session=session,
        data=TaskCreate(title="Call", assignee_id=users["sales"].id),
        actor_id=None,
        person_id=person_id,
    )
    assert task.assignee_id == users["sales"].id


def test_the_api_refuses_an_analyst_on_create_and_reassign(client, session, office):
    users, person_id = office
    admin = make_api_user(session, "admin")
    url = f"/api/v1/people/{person_id}/tasks"
    refused = client.post(
        url, json={"title": "Check", "assignee_id": users["analyst"].id}, headers=admin.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "assignee_id"
    created = client.post(
        url, json={"title": "Call", "assignee_id": users["sales"].id}, headers=admin.headers
    )
    assert created.status_code == 201
    task_id = created.json()["id"]
    moved = client.patch(
        f"/api/v1/tasks/{task_id}",
        json={"assignee_id": users["analyst"].id},
        headers=admin.headers,
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "assignee_id"
    assert session.get(Task, task_id).assignee_id == users["sales"].id


def test_the_assignee_pickers_leave_analysts_out(client, session, office):
    users, person_id = office
    create_task(
        session=session,
        data=TaskCreate(title="Call", assignee_id=users["sales"].id),
        actor_id=None,
        person_id=person_id,
    )
    session.commit()
    log_in(client, "admin@example.com", PASSWORD)
    person_page = client.get(f"/people/{person_id}").text
    picker = re.search(r'<select name="assignee_id".*?</select>', person_page, re.S).group(0)
    assert f'value="{users["sales"].id}"' in picker
    assert f'value="{users["analyst"].id}"' not in picker
    tasks_page = client.get("/tasks?assignee=all").text
    reassign = re.search(r'<select name="assignee_id".*?</select>', tasks_page, re.S).group(0)
    assert f'value="{users["analyst"].id}"' not in reassign
    assert session.scalars(select(Task).where(Task.assignee_id == users["analyst"].id)).all() == []


def test_retention_fallback_owner_cannot_be_an_analyst(client, session, office):
    users, _ = office
    admin = make_api_user(session, "admin")
    refused = client.patch(
        "/api/v1/retention/settings",
        json={"fallback_owner_id": users["analyst"].id},
        headers=admin.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "fallback_owner_id"
    ok = client.patch(
        "/api/v1/retention/settings",
        json={"fallback_owner_id": users["sales"].id},
        headers=admin.headers,
    )
    assert ok.status_code == 200 and ok.json()["fallback_owner_id"] == users["sales"].id
