"""Organizations as first-class records over HTTP: create, edit, delete with their audit,
bad input named by field, roll-ups checked against the rows the test made, and the
organization's own timeline (activities and notes logged on it, its people's events)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tenure.customers.models import Organization, Person, Task
from tenure.customers.organizations import clean_domain
from tenure.errors import InvalidInput
from tenure.identity.models import AuditEntry, User
from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _org(client, admin, **body) -> int:
    response = client.post("/api/v1/organizations", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _person(client, admin, **body) -> int:
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _event(client, admin, person_id: int, kind: str, at: str, amount: int, currency: str, key):
    body = {
        "type": kind,
        "occurred_at": at,
        "source": "shop",
        "client_event_id": key,
        "person_id": person_id,
        "amount_minor": amount,
        "currency": currency,
    }
    response = client.post("/api/v1/events", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text


def test_create_edit_delete_are_audited_and_cleaned(client, admin, session):
    org_id = _org(
        client, admin, name="  Initech ", domain="https://www.Initech.example/about", tags=["b2b"]
    )
    org = session.get(Organization, org_id)
    assert org is not None
    assert (org.name, org.domain) == ("Initech", "initech.example")

    patched = client.patch(
        f"/api/v1/organizations/{org_id}",
        json={"name": "Initech Ltd", "owner_id": admin.id, "tags": ["b2b", "vip"]},
        headers=admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["owner_id"] == admin.id
    assert patched.json()["tags"] == ["b2b", "vip"]
    unchanged = client.patch(
        f"/api/v1/organizations/{org_id}", json={"name": "Initech Ltd"}, headers=admin.headers
    )
    assert unchanged.status_code == 200

    member = _person(client, admin, first_name="Peter", organization_id=org_id)
    client.post(
        f"/api/v1/organizations/{org_id}/notes", json={"body": "TPS"}, headers=admin.headers
    )
    deleted = client.delete(f"/api/v1/organizations/{org_id}", headers=admin.headers)
    assert deleted.status_code == 204
    session.expire_all()
    assert session.get(Organization, org_id) is None
    assert session.get(Person, member).organization_id is None  # the person stays
    assert session.scalars(select(Event).where(Event.organization_id == org_id)).all() == []
    audit = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "organization", AuditEntry.entity_id == str(org_id))
        .order_by(AuditEntry.id)
    ).all()
    # The unchanged PATCH wrote nothing.
    assert audit == ["create", "update", "delete"]
    missing = client.delete(f"/api/v1/organizations/{org_id}", headers=admin.headers)
    assert missing.status_code == 404


def test_bad_input_names_the_field(client, admin):
    _org(client, admin, name="Taken", domain="taken.example")
    other = _org(client, admin, name="Other")
    cases = [
        ("post", "/api/v1/organizations", {"name": ""}, 422, "name"),
        ("post", "/api/v1/organizations", {"name": "X", "domain": "not a domain"}, 422, "domain"),
        ("post", "/api/v1/organizations", {"name": "X", "owner_id": 987654}, 422, "owner_id"),
        ("post", "/api/v1/organizations", {"name": "X", "colour": "red"}, 422, "colour"),
        ("post", "/api/v1/organizations", {"name": "X", "domain": "TAKEN.example"}, 409, "domain"),
        ("patch", f"/api/v1/organizations/{other}", {"name": None}, 422, "name"),
        ("patch", f"/api/v1/organizations/{other}", {"domain": "taken.example"}, 409, "domain"),
        ("post", f"/api/v1/organizations/{other}/tasks", {"title": " "}, 422, "title"),
        (
            "post",
            f"/api/v1/organizations/{other}/tasks",
            {"title": "Call", "assignee_id": 987654},
            422,
            "assignee_id",
        ),
        ("post", f"/api/v1/organizations/{other}/notes", {"body": ""}, 422, "body"),
        (
            "post",
            f"/api/v1/organizations/{other}/activities",
            {"kind": "fax", "outcome": "sent"},
            422,
            "kind",
        ),
    ]
    for method, url, body, code, field in cases:
        response = getattr(client, method)(url, json=body, headers=admin.headers)
        assert response.status_code == code, (url, body, response.text)
        answer = response.json()
        named = answer["errors"][0]["field"] if "errors" in answer else answer.get("field")
        assert named == field, (body, answer)


def test_analyst_reads_but_cannot_write(client, admin, api_user):
    org_id = _org(client, admin, name="Umbrella")
    analyst = api_user("analyst")
    assert client.get(f"/api/v1/organizations/{org_id}", headers=analyst.headers).status_code == 200
    writes = [
        ("post", "/api/v1/organizations", {"name": "Nope"}),
        ("patch", f"/api/v1/organizations/{org_id}", {"name": "Nope"}),
        ("post", f"/api/v1/organizations/{org_id}/notes", {"body": "nope"}),
        ("post", f"/api/v1/organizations/{org_id}/tasks", {"title": "nope"}),
        ("post", f"/api/v1/organizations/{org_id}/activities", {"kind": "call", "outcome": "x"}),
    ]
    for method, url, body in writes:
        response = getattr(client, method)(url, json=body, headers=analyst.headers)
        assert response.status_code == 403, (url, response.text)
    assert (
        client.delete(f"/api/v1/organizations/{org_id}", headers=analyst.headers).status_code == 403
    )


def test_rollups_add_up_the_rows_of_its_people_and_its_own(client, admin, session):
    fix_now(session, NOW)
    session.commit()
    org_id = _org(client, admin, name="Acme", domain="acme.example", owner_id=admin.id)
    elsewhere = _org(client, admin, name="Elsewhere")
    ann = _person(client, admin, first_name="Ann", organization_id=org_id)
    bob = _person(client, admin, first_name="Bob", organization_id=org_id)
    out = _person(client, admin, first_name="Out", organization_id=elsewhere)
    _event(client, admin, ann, "order", "2025-12-01T10:00:00Z", 10_000, "USD", "a1")
    _event(client, admin, ann, "order", "2026-03-01T10:00:00Z", 2_500, "USD", "a2")
    _event(client, admin, bob, "order", "2026-03-05T10:00:00Z", 4_000, "EUR", "b1")
    _event(client, admin, bob, "refund", "2026-03-06T10:00:00Z", 1_000, "EUR", "b2")
    _event(client, admin, out, "order", "2026-03-07T10:00:00Z", 99_999, "USD", "o1")
    # Open tasks: one on the organization, one on Ann; a done one and one elsewhere don't count.
    task = client.post(
        f"/api/v1/organizations/{org_id}/tasks", json={"title": "Renewal"}, headers=admin.headers
    )
    assert task.status_code == 201, task.text
    client.post(f"/api/v1/people/{ann}/tasks", json={"title": "Thank"}, headers=admin.headers)
    done = client.post(f"/api/v1/people/{bob}/tasks", json={"title": "Old"}, headers=admin.headers)
    client.patch(f"/api/v1/tasks/{done.json()['id']}", json={"done": True}, headers=admin.headers)
    client.post(f"/api/v1/people/{out}/tasks", json={"title": "Other"}, headers=admin.headers)

    body = client.get(f"/api/v1/organizations/{org_id}", headers=admin.headers).json()
    assert body["people"] == 2
    assert body["revenue"] == [
        {"currency": "EUR", "amount_minor": 3_000},
        {"currency": "USD", "amount_minor": 12_500},
    ]
    # The last 30 days up to the workspace's today (2026-03-10): not December's order.
    assert body["revenue_last_30_days"] == [
        {"currency": "EUR", "amount_minor": 3_000},
        {"currency": "USD", "amount_minor": 2_500},
    ]
    assert body["open_tasks"] == 2
    assert datetime.fromisoformat(body["last_activity_at"]) == datetime(2026, 3, 6, 10, tzinfo=UTC)
    owner = session.get(User, admin.id)
    assert body["owner"] == (owner.name or owner.email)

    # A call logged on the organization itself is newer: the last activity moves to it.
    call = client.post(
        f"/api/v1/organizations/{org_id}/activities",
        json={"kind": "call", "outcome": "Renewal agreed", "duration_minutes": 15},
        headers=admin.headers,
    )
    assert call.status_code == 201, call.text
    listed = client.get("/api/v1/organizations", params={"q": "acme.ex"}, headers=admin.headers)
    (row,) = listed.json()["items"]
    assert (row["id"], row["people"], row["open_tasks"]) == (org_id, 2, 2)
    assert datetime.fromisoformat(row["last_activity_at"]) == NOW
    assert (
        session.scalar(select(Task.organization_id).where(Task.id == task.json()["id"])) == org_id
    )


def test_activity_and_note_land_on_the_organizations_own_timeline(client, admin, session):
    fix_now(session, NOW)
    session.commit()
    org_id = _org(client, admin, name="Globex")
    # An organization without people still holds its own story.
    call = client.post(
        f"/api/v1/organizations/{org_id}/activities",
        json={"kind": "call", "direction": "inbound", "outcome": "Asked for a quote"},
        headers=admin.headers,
    )
    assert call.status_code == 201, call.text
    assert call.json()["organization_id"] == org_id
    hank = _person(client, admin, first_name="Hank", last_name="Scorpio", organization_id=org_id)
    _event(client, admin, hank, "order", "2026-03-09T08:00:00Z", 5_000, "USD", "h1")
    note = client.post(
        f"/api/v1/organizations/{org_id}/notes",
        json={"body": "Budget approved"},
        headers=admin.headers,
    )
    assert note.status_code == 201, note.text

    stored = session.scalars(select(Event).where(Event.organization_id == org_id)).all()
    assert sorted((e.type, e.person_id) for e in stored) == [("call", None), ("note_added", None)]
    # The person's own timeline does not repeat the organization's call.
    hank_types = session.scalars(select(Event.type).where(Event.person_id == hank)).all()
    assert "order" in hank_types and "call" not in hank_types

    page = client.get(f"/api/v1/organizations/{org_id}/timeline", headers=admin.headers).json()
    told = [(e["type"], e["person_name"]) for e in page["items"] if e["type"] != "stage_changed"]
    # Newest first: the note and the call at the clock's now (note added last), the order.
    assert told == [("note_added", None), ("call", None), ("order", "Hank Scorpio")]
    (call_event,) = [e for e in page["items"] if e["type"] == "call"]
    assert call_event["payload"]["outcome"] == "Asked for a quote"
    assert call_event["organization_id"] == org_id
    first = client.get(
        f"/api/v1/organizations/{org_id}/timeline", params={"limit": 1}, headers=admin.headers
    ).json()
    rest = client.get(
        f"/api/v1/organizations/{org_id}/timeline",
        params={"limit": 5, "cursor": first["next_cursor"]},
        headers=admin.headers,
    ).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in page["items"]]
    only_calls = client.get(
        f"/api/v1/organizations/{org_id}/timeline", params={"type": "call"}, headers=admin.headers
    ).json()
    assert [e["type"] for e in only_calls["items"]] == ["call"]
    assert (
        client.get("/api/v1/organizations/999999/timeline", headers=admin.headers).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.Acme.com/about", "acme.com"),
        ("acme.com.", "acme.com"),
        ("münchen.de", "münchen.de"),  # internationalized domains stay in Unicode
        ("  ", None),
    ],
)
def test_domains_are_stored_bare(typed, stored):
    assert clean_domain(typed) == stored


@pytest.mark.parametrize("typed", ["not a domain", "acme", "-acme.com", "acme_corp.com", "a..com"])
def test_what_is_not_a_domain_is_refused_by_name(typed):
    with pytest.raises(InvalidInput) as refused:
        clean_domain(typed)
    assert refused.value.field == "domain"
