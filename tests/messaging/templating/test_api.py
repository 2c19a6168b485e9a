"""The templates API: CRUD with versions, 4xx naming the field (and the line), preview with
a real person, read-only roles."""

from __future__ import annotations

from tenure.messaging.templating.library import LIBRARY

from .customers import grace_with_history

BODY = {
    "name": "Spring sale",
    "purpose": "marketing",
    "subject": "Spring is here, {{ person.first_name }}",
    "html": "<p>Hello {{ person.name }}</p>",
}


def test_crud_and_versions(client, admin):
    created = client.post("/api/v1/templates", json=BODY, headers=admin.headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["version"]["number"] == 1
    assert template["version"]["created_by"] == admin.email
    tid = template["id"]

    edited = client.patch(
        f"/api/v1/templates/{tid}",
        json={"html": "<p>Hi {{ person.name }}</p>", "description": "April"},
        headers=admin.headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"]["number"] == 2
    assert edited.json()["description"] == "April"

    versions = client.get(f"/api/v1/templates/{tid}/versions", headers=admin.headers).json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    first = client.get(f"/api/v1/templates/{tid}/versions/1", headers=admin.headers).json()
    assert first["html"] == "<p>Hello {{ person.name }}</p>"

    restored = client.post(f"/api/v1/templates/{tid}/versions/1/restore", headers=admin.headers)
    assert restored.json()["version"]["number"] == 3
    assert restored.json()["version"]["html"] == BODY["html"]

    listed = client.get("/api/v1/templates", headers=admin.headers).json()["items"]
    assert sorted(t["name"] for t in listed) == sorted([BODY["name"], *(e.name for e in LIBRARY)])

    assert client.delete(f"/api/v1/templates/{tid}", headers=admin.headers).status_code == 204
    listed = client.get("/api/v1/templates", headers=admin.headers).json()["items"]
    assert BODY["name"] not in [t["name"] for t in listed]
    archived = client.get("/api/v1/templates?archived=true", headers=admin.headers).json()
    assert [t["name"] for t in archived["items"]] == [BODY["name"]]


def test_a_template_that_does_not_check_is_a_422_with_every_problem_and_line(client, admin):
    body = {
        **BODY,
        "subject": "Hi {{ person.__class__ }}",
        "html": "<p>\n{{ person.nmae }}\n{{ ''.__class__.__mro__ }}</p>",
    }
    answer = client.post("/api/v1/templates", json=body, headers=admin.headers)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "subject",
            "line": 1,
            "reason": "person.__class__ is not allowed (names starting with _ lead out of the "
            "sandbox)",
        },
        {"field": "html", "line": 2, "reason": "unknown field person.nmae (did you mean name?)"},
        {
            "field": "html",
            "line": 3,
            "reason": "''.__class__ is not allowed (names starting with _ lead out of the sandbox)",
        },
    ]


def test_bad_input_names_the_field(client, admin):
    missing = client.post("/api/v1/templates", json={"name": "x"}, headers=admin.headers)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"purpose", "subject", "html"}
    purpose = client.post(
        "/api/v1/templates", json={**BODY, "purpose": "spam"}, headers=admin.headers
    )
    assert [e["field"] for e in purpose.json()["errors"]] == ["purpose"]
    client.post("/api/v1/templates", json=BODY, headers=admin.headers)
    duplicate = client.post("/api/v1/templates", json=BODY, headers=admin.headers)
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"
    syntax = client.post(
        "/api/v1/templates",
        json={**BODY, "name": "Other", "html": "<p>{% if x %}"},
        headers=admin.headers,
    )
    assert syntax.status_code == 422 and syntax.json()["errors"][0]["field"] == "html"
    assert client.get("/api/v1/templates/999999", headers=admin.headers).status_code == 404
    unknown_version = client.get("/api/v1/templates/999999/versions/1", headers=admin.headers)
    assert unknown_version.status_code == 404


def test_preview_with_a_real_person(client, admin, session):
    grace = grace_with_history(session)
    session.commit()
    body = {
        "subject": "For {{ person.first_name }}",
        "html": "<style>p{color:#123456}</style><p>{{ person.name }}: "
        "{{ last_order.total|money }}</p>",
        "person_id": grace,
    }
    answer = client.post("/api/v1/templates/preview", json=body, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["subject"] == "For Grace"
    assert '<p style="color: #123456;">Grace Hopper: $42.50</p>' in answer.json()["html"]
    assert answer.json()["text"] == "Grace Hopper: $42.50\n"

    unknown = client.post(
        "/api/v1/templates/preview", json={**body, "person_id": 10**9}, headers=admin.headers
    )
    assert unknown.status_code == 404
    wrong = client.post(
        "/api/v1/templates/preview",
        json={**body, "html": "<p>\n{{ person.nmae }}"},
        headers=admin.headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["line"] == 2


def test_read_only_roles(client, api_user):
    analyst = api_user("analyst")
    sales = api_user("sales")
    assert client.get("/api/v1/templates", headers=analyst.headers).status_code == 200
    assert client.get("/api/v1/templates/fields", headers=analyst.headers).status_code == 200
    for user in (analyst, sales):
        refused = client.post("/api/v1/templates", json=BODY, headers=user.headers)
        assert refused.status_code == 403


def test_fields_lists_the_schema(client, admin):
    names = {
        f["name"]
        for f in client.get("/api/v1/templates/fields", headers=admin.headers).json()["items"]
    }
    assert {"person.first_name", "last_order.total", "orders[].items[].sku"} <= names
    assert {"next_best_action.offer", "stage.name", "scores.clv_12m", "unsubscribe_url"} <= names
