"""NUL characters are refused everywhere the API and pages take text, by field, on both
databases: PostgreSQL cannot store them in text while SQLite did, so the same request
answered 422 on one and stored the text on the other."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.customers.models import Organization, Person
from tenure.segments.models import Segment
from tests.pages import csrf_token, log_in_as

NUL = "a\x00b"
REASON = "must not contain NUL (\\u0000) characters"

BODIES = [
    ("post", "/api/v1/people", {"first_name": NUL}, "first_name"),
    ("post", "/api/v1/people", {"job_title": NUL}, "job_title"),
    (
        "post",
        "/api/v1/people",
        {"identities": [{"kind": "external", "namespace": "crm", "value": NUL}]},
        "identities.0.value",
    ),
    ("post", "/api/v1/people", {"tags": [NUL]}, "tags.0"),
    ("post", "/api/v1/people", {"attributes": {"plan": NUL}}, "attributes.plan"),
    (
        "post",
        "/api/v1/people",
        {
            "consents": [
                {"channel": "email", "purpose": "marketing", "status": "granted", "source": NUL}
            ]
        },
        "consents.0.source",
    ),
    ("post", "/api/v1/organizations", {"name": NUL}, "name"),
    ("post", "/api/v1/organizations", {"name": "Acme", "domain": NUL}, "domain"),
    ("post", "/api/v1/attributes", {"key": "plan", "label": NUL, "type": "text"}, "label"),
    ("post", "/api/v1/segments", {"name": NUL, "filter": "stage = 'active'"}, "name"),
    ("post", "/api/v1/segments", {"name": "s", "description": NUL}, "description"),
    ("post", "/api/v1/segments/preview", {"filter": f"first_name = '{NUL}'"}, "filter"),
    ("post", "/api/v1/lifecycle/stages", {"key": "vip", "name": NUL}, "name"),
    (
        "patch",
        "/api/v1/retention/settings",
        {"engagement_event_types": [NUL]},
        "engagement_event_types.0",
    ),
    ("patch", "/api/v1/workspace", {"unique_id_namespaces": [NUL]}, "unique_id_namespaces.0"),
]


def _counts(session) -> tuple[int, int, int]:
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Person, Organization, Segment)
    )


@pytest.mark.parametrize(("method", "path", "body", "field"), BODIES)
def test_a_nul_in_a_body_text_is_a_422_on_its_field(
    client, admin, session, method, path, body, field
):
    before = _counts(session)
    response = client.request(method, path, json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert {"field": field, "reason": REASON} in response.json()["errors"]
    assert _counts(session) == before


def test_a_nul_in_a_note_or_task_is_a_422(client, admin):
    person = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=admin.headers)
    person_id = person.json()["id"]
    note = client.post(
        f"/api/v1/people/{person_id}/notes", json={"body": NUL}, headers=admin.headers
    )
    task = client.post(
        f"/api/v1/people/{person_id}/tasks",
        json={"title": "Call", "description": NUL},
        headers=admin.headers,
    )
    assert note.status_code == 422 and note.json()["errors"][0]["field"] == "body"
    assert task.status_code == 422 and task.json()["errors"][0]["field"] == "description"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/people?q=a%00b", "q"),
        ("/api/v1/people?tag=a%00b", "tag"),
        ("/api/v1/organizations?q=%00", "q"),
        ("/api/v1/people?cursor=%00", "cursor"),
        ("/api/v1/audit?entity_type=%00", "entity_type"),
        ("/api/v1/jobs?task=%00", "task"),
        ("/api/v1/lifecycle/funnel?tag=%00", "tag"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_422_on_it(client, admin, url, field):
    response = client.get(url, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": field, "reason": REASON}]


def test_a_nul_in_a_path_parameter_is_a_422(client, admin):
    response = client.patch(
        "/api/v1/lifecycle/stages/a%00b", json={"name": "x"}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "key", "reason": REASON}]


def test_a_nul_in_an_upload_form_field_is_a_422(client, admin, session):
    before = _counts(session)
    response = client.post(
        "/api/v1/imports/csv",
        files={"file": ("p.csv", b"First name,Email\nAda,ada@example.com\n", "text/csv")},
        data={"source": NUL},
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "source", "reason": REASON}]
    assert _counts(session) == before


def test_a_people_json_line_with_a_nul_is_refused_on_its_line(client, admin, session):
    lines = (
        b'{"first_name": "Ada", "identities": [{"kind": "email", "value": "ada@example.com"}]}\n'
        b'{"first_name": "B\\u0000b", "identities": [{"kind": "email", "value": "b@x.com"}]}\n'
    )
    response = client.post(
        "/api/v1/imports/jsonl",
        files={"file": ("p.jsonl", lines, "application/x-ndjson")},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"]["created"] == 1 and body["counts"]["rejected"] == 1
    assert body["rejected_rows"] == [{"line": 2, "column": "first_name", "reason": REASON}]


def test_a_nul_in_a_page_query_or_form_is_a_clear_422(client, session):
    log_in_as(client, session, "manager", email="m@example.com")

    search = client.get("/people?q=a%00b")
    assert search.status_code == 422 and "NUL" in search.text

    form_token = csrf_token(client.get("/segments/new").text)
    before = _counts(session)
    created = client.post(
        "/segments/new", data={"csrf_token": form_token, "name": NUL, "filter": "stage = 'lead'"}
    )
    assert created.status_code == 422 and "NUL" in created.text
    assert _counts(session) == before
