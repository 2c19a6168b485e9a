"""The organization pages' forms through the real app: typed custom attributes, refused
input shown again with the field in words and what was typed, and analysts kept out."""

from __future__ import annotations

import re

from sqlalchemy import select

from tenure.customers.actions import define_attribute
from tenure.customers.models import Organization, Task
from tenure.customers.organizations import create_organization
from tenure.customers.schemas import AttributeDefinitionCreate, OrganizationCreate
from tenure.identity.actions import create_user
from tenure.timeline.models import Event
from tests.pages import csrf_token, log_in


def _world(session) -> tuple[dict, int]:
    users = {
        role: create_user(
            session=session, email=f"{role}@example.com", role=role, password="pass-word-123"
        )
        for role in ("admin", "sales", "analyst")
    }
    define_attribute(
        session=session,
        data=AttributeDefinitionCreate(
            entity="organization", key="seats", label="Seats", type="number"
        ),
        actor_id=None,
    )
    taken = create_organization(
        session=session, data=OrganizationCreate(name="Taken", domain="taken.example"), actor=None
    )
    return {role: u.id for role, u in users.items()}, taken.id


def test_create_with_a_typed_attribute_and_a_refused_one(client, session):
    _world(session)
    log_in(client, "admin@example.com", "pass-word-123")
    token = csrf_token(client.get("/organizations").text)
    form = {"csrf_token": token, "name": "Initech", "domain": "", "tags": "b2b, b2b, vip"}

    refused = client.post("/organizations", data={**form, "attr.seats": "forty"})
    assert refused.status_code == 422
    assert "Seats: must be a number" in refused.text
    assert 'value="Initech"' in refused.text  # what was typed stays
    assert session.scalar(select(Organization).where(Organization.name == "Initech")) is None

    created = client.post(
        "/organizations", data={**form, "attr.seats": "40"}, follow_redirects=False
    )
    assert created.status_code == 303
    org = session.scalar(select(Organization).where(Organization.name == "Initech"))
    assert org is not None
    assert org.attributes == {"seats": 40}
    assert sorted(t.name for t in org.tags) == ["b2b", "vip"]
    assert created.headers["location"] == f"/organizations/{org.id}"


def test_refused_forms_on_the_page_name_the_field_in_words(client, session):
    _, taken_id = _world(session)
    log_in(client, "admin@example.com", "pass-word-123")
    org_id = client.post(
        "/organizations",
        data={"csrf_token": csrf_token(client.get("/organizations").text), "name": "Globex"},
        follow_redirects=False,
    ).headers["location"]
    token = csrf_token(client.get(org_id).text)
    cases = [
        ("", {"name": "Globex", "domain": "TAKEN.example"}, "Domain: organization"),
        ("", {"name": " "}, "Name: is required"),
        ("/notes", {"body": "   "}, "Note: is required"),
        ("/tasks", {"title": "Call back", "due": "next week"}, "Due date: is not a date"),
        (
            "/activities",
            {"kind": "call", "outcome": "Left a voicemail", "duration_minutes": "an hour"},
            "Duration (minutes): is not a whole number of minutes",
        ),
        ("/activities", {"kind": "call", "outcome": ""}, "Outcome: is required"),
    ]
    for path, fields, message in cases:
        response = client.post(f"{org_id}{path}", data={"csrf_token": token, **fields})
        assert response.status_code == 422, (path, fields)
        assert message in response.text, (path, fields, message)
    kept = client.post(
        f"{org_id}/activities",
        data={
            "csrf_token": token,
            "kind": "call",
            "outcome": "Left a voicemail",
            "duration_minutes": "x",
        },
    )
    assert 'value="Left a voicemail"' in kept.text
    assert session.scalars(select(Event).where(Event.type == "call")).all() == []
    assert session.scalars(select(Task).where(Task.title == "Call back")).all() == []
    assert session.get(Organization, taken_id).domain == "taken.example"


def test_analyst_sees_no_control_and_cannot_post(client, session):
    _, taken_id = _world(session)
    log_in(client, "analyst@example.com", "pass-word-123")
    page = client.get(f"/organizations/{taken_id}")
    assert page.status_code == 200
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'method="post"' not in main
    assert 'id="edit-organization"' not in page.text
    assert 'id="log-activity"' not in page.text
    assert 'id="new-organization"' not in client.get("/organizations").text
    token = csrf_token(page.text)
    for path, fields in [
        ("", {"name": "Mine now"}),
        ("/notes", {"body": "hi"}),
        ("/tasks", {"title": "t"}),
        ("/activities", {"kind": "call", "outcome": "x"}),
        ("/delete", {}),
    ]:
        response = client.post(
            f"/organizations/{taken_id}{path}", data={"csrf_token": token, **fields}
        )
        assert response.status_code == 403, path
    assert session.get(Organization, taken_id).name == "Taken"


def test_the_task_form_offers_only_users_who_can_do_tasks(client, session):
    """The analyst owns nothing to do: offered as an assignee, choosing them was refused."""
    users, org_id = _world(session)
    session.commit()
    log_in(client, "admin@example.com", "pass-word-123")
    page = client.get(f"/organizations/{org_id}")
    assert page.status_code == 200
    picker = re.search(r'<select name="assignee_id"[^>]*>(.*?)</select>', page.text, re.DOTALL)
    assert picker
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', picker.group(1))}
    assert offered == {users["admin"], users["sales"]}
