"""Organizations over HTTP, with their people, notes and tasks."""

from __future__ import annotations


def test_organization_with_its_people(client, admin):
    org = client.post(
        "/api/v1/organizations",
        json={"name": "Globex", "domain": "globex.example", "tags": ["enterprise"]},
        headers=admin.headers,
    )
    assert org.status_code == 201
    org_id = org.json()["id"]
    for first in ("Hank", "Homer"):
        response = client.post(
            "/api/v1/people",
            json={"first_name": first, "last_name": "Scorpio", "organization_id": org_id},
            headers=admin.headers,
        )
        assert response.status_code == 201
        assert response.json()["organization"] == {"id": org_id, "name": "Globex"}
    client.post("/api/v1/people", json={"first_name": "Lone"}, headers=admin.headers)

    people = client.get(f"/api/v1/organizations/{org_id}/people", headers=admin.headers).json()
    assert [p["first_name"] for p in people["items"]] == ["Hank", "Homer"]

    listed = client.get(
        "/api/v1/organizations", params={"tag": "enterprise"}, headers=admin.headers
    ).json()
    assert [o["name"] for o in listed["items"]] == ["Globex"]

    note = client.post(
        f"/api/v1/organizations/{org_id}/notes",
        json={"body": "Renewal in May"},
        headers=admin.headers,
    )
    assert note.status_code == 201 and note.json()["organization_id"] == org_id
    task = client.post(
        f"/api/v1/organizations/{org_id}/tasks",
        json={
            "title": "Prepare renewal",
            "due_at": "2026-05-01T09:00:00Z",
            "assignee_id": admin.id,
        },
        headers=admin.headers,
    )
    assert task.status_code == 201 and task.json()["assignee_id"] == admin.id


def test_person_in_unknown_organization_is_422(client, admin):
    response = client.post(
        "/api/v1/people", json={"organization_id": 424242}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "organization_id", "reason": "no organization 424242"}
    ]


def test_task_due_date_needs_a_timezone(client, admin):
    person = client.post("/api/v1/people", json={"first_name": "Tz"}, headers=admin.headers)
    response = client.post(
        f"/api/v1/people/{person.json()['id']}/tasks",
        json={"title": "Call", "due_at": "2026-05-01T09:00:00"},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "due_at"
