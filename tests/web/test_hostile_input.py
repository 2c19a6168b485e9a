"""Hostile input over HTTP (issue 9): 64-bit ids, LIKE wildcards and long searches, opaque
cursors, body size limits, OPTIONS, and the OpenAPI description of errors."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from tenure.db.paging import encode_cursor
from tenure.web.app import create_app

BIG = str(2**63)

PATH_IDS = [
    ("GET", f"/api/v1/people/{BIG}", "person_id"),
    ("PATCH", f"/api/v1/people/{BIG}", "person_id"),
    ("GET", f"/api/v1/people/{BIG}/timeline", "person_id"),
    ("POST", f"/api/v1/people/{BIG}/tasks", "person_id"),
    ("GET", f"/api/v1/organizations/{BIG}", "organization_id"),
    ("GET", f"/api/v1/segments/{BIG}", "segment_id"),
    ("GET", f"/api/v1/merges/{BIG}", "merge_id"),
    ("POST", f"/api/v1/merges/{BIG}/undo", "merge_id"),
    ("GET", f"/api/v1/imports/{BIG}", "import_id"),
    ("GET", f"/api/v1/lifecycle/people/{BIG}", "person_id"),
    ("GET", f"/api/v1/people?owner_id={BIG}", "owner_id"),
    ("GET", f"/api/v1/people?organization_id={BIG}", "organization_id"),
    ("GET", f"/api/v1/retention/at-risk?owner_id={BIG}", "owner_id"),
    ("GET", f"/api/v1/lifecycle/time-in-stage?person_id={BIG}", "person_id.0"),
    ("GET", f"/api/v1/jobs/{BIG}", "job_id"),
    ("POST", f"/api/v1/jobs/{BIG}/retry", "job_id"),
    ("POST", f"/api/v1/jobs/{BIG}/cancel", "job_id"),
    ("PATCH", "/api/v1/retention/settings", "fallback_owner_id"),
    ("GET", "/api/v1/people/0", "person_id"),
]


@pytest.mark.parametrize(("method", "url", "field"), PATH_IDS)
def test_ids_beyond_64_bits_are_a_422_naming_the_id(client, admin, method, url, field):
    body = {"title": "t"} if url.endswith("/tasks") else None
    if url.endswith("/retention/settings"):
        body = {"fallback_owner_id": 2**63}
    response = client.request(method, url, headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["errors"] if e["field"] == field]
    limit = "greater than or equal to 1" if url.endswith("/0") else "9223372036854775807"
    assert limit in error["reason"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/people", {"organization_id": 2**63}, "organization_id"),
        ("/api/v1/people", {"owner_id": 1.0}, "owner_id"),
        ("/api/v1/lifecycle/evaluate", {"person_ids": [1, 2**63]}, "person_ids.1"),
        ("/api/v1/segments", {"name": "S", "person_ids": [2**64]}, "person_ids.0"),
    ],
)
def test_body_ids_beyond_64_bits_are_a_422(client, admin, url, body, field):
    response = client.post(url, json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_attribute_numbers_beyond_64_bits_and_bad_birthdays_are_refused(client, admin):
    for key, kind in (("seats", "number"), ("birthday", "text")):
        declared = client.post(
            "/api/v1/attributes",
            json={"entity": "person", "key": key, "label": key, "type": kind},
            headers=admin.headers,
        )
        assert declared.status_code == 201, declared.text
    person = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=admin.headers)
    url = f"/api/v1/people/{person.json()['id']}"
    for attributes, field in (
        ({"seats": 2**64}, "attributes.seats"),
        ({"birthday": "1990-13-45"}, "attributes.birthday"),
        ({"birthday": "0001-01-01"}, "attributes.birthday"),
    ):
        response = client.patch(url, json={"attributes": attributes}, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    fine = client.patch(
        url, json={"attributes": {"birthday": "1990-12-31", "seats": 12}}, headers=admin.headers
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["attributes"] == {"birthday": "1990-12-31", "seats": 12}


def test_search_escapes_like_wildcards_and_caps_its_length(client, admin):
    for name in ("Acme 100% Natural", "Bolt_Works", "Cargo Inc"):
        created = client.post("/api/v1/organizations", json={"name": name}, headers=admin.headers)
        assert created.status_code == 201, created.text
    for person in ("Pct%Person", "Under_Score", "Plain Person"):
        client.post("/api/v1/people", json={"first_name": person}, headers=admin.headers)

    def names(url: str, key: str) -> list[str]:
        response = client.get(url, headers=admin.headers)
        assert response.status_code == 200, response.text
        return sorted(item[key] for item in response.json()["items"])

    assert names("/api/v1/organizations?q=%25", "name") == ["Acme 100% Natural"]
    assert names("/api/v1/organizations?q=_", "name") == ["Bolt_Works"]
    assert names("/api/v1/people?q=%25", "first_name") == ["Pct%Person"]
    assert names("/api/v1/people?q=_", "first_name") == ["Under_Score"]

    for url in ("/api/v1/people", "/api/v1/organizations", "/api/v1/exports/people"):
        response = client.get(url, params={"q": "a" * 60_000}, headers=admin.headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["errors"][0]["field"] == "q"


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "!!!",
        encode_cursor("text", 2**64),
        encode_cursor({"a": 1}, 3),
        encode_cursor(2**70, 3),
        "W251bGwsIHRydWVd",  # [null, true]
    ],
)
def test_any_cursor_string_is_taken_and_a_foreign_one_is_a_clear_422(client, admin, cursor):
    for url in ("/api/v1/people", "/api/v1/organizations", "/api/v1/retention/at-risk"):
        response = client.get(url, params={"cursor": cursor}, headers=admin.headers)
        assert response.status_code == 422, (url, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "cursor"
        assert "pass `next_cursor` as it came" in error["reason"]
    audit = client.get("/api/v1/audit", params={"cursor": cursor}, headers=admin.headers)
    assert audit.status_code == 422


def test_a_cursor_of_another_sort_order_is_a_422(client, admin):
    by_name = encode_cursor("Ada", 3)  # what a list sorted by name hands out
    response = client.get("/api/v1/people", params={"cursor": by_name}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "cursor"
    fine = client.get(
        "/api/v1/people", params={"cursor": by_name, "sort": "last_name"}, headers=admin.headers
    )
    assert fine.status_code == 200


def test_options_answers_allow(client):
    response = client.options("/api/v1/people/1")
    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    assert client.options("/api/v1/events").headers["allow"] == "OPTIONS, POST"
    assert client.options("/api/v1/no-such-thing").status_code == 404


@pytest.fixture
def small_limits_client(settings, engine, session_factory):
    small = settings.model_copy(
        update={"max_batch_bytes": 4096, "max_body_bytes": 2048, "max_upload_bytes": 8192}
    )
    app = create_app(small, engine)
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        yield client


def _stream_to_app(app, path: str, headers: dict[str, str], chunks: int) -> tuple[int, dict, int]:
    """Send a body of ``chunks`` KB in 1 KB messages straight to the ASGI app, the way
    uvicorn does; returns the status, the JSON answer and how many chunks were pulled."""
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * 1024, "more_body": pulled < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def test_bodies_over_the_route_limit_are_413_while_streaming(small_limits_client, admin):
    client = small_limits_client
    headers = {**admin.headers, "content-type": "application/json"}
    status, body, pulled = _stream_to_app(client.app, "/api/v1/events", headers, chunks=1024)
    assert status == 413
    assert body == {
        "error": "payload_too_large",
        "message": "the request body is over the limit of 4,096 bytes for this route "
        "(TENURE_MAX_BATCH_BYTES)",
        "limit_bytes": 4096,
    }
    # Refused at the chunk that crossed the 4 KB limit, not after reading the whole megabyte.
    assert pulled == 5

    announced = client.post(
        "/api/v1/people", content=b"{" + b" " * 3000 + b"}", headers=admin.headers
    )
    assert announced.status_code == 413
    assert "2,048 bytes" in announced.json()["message"]

    upload = client.post(
        "/api/v1/imports/csv",
        files={"file": ("big.csv", b"first_name\n" + b"x\n" * 10_000, "text/csv")},
        headers=admin.headers,
    )
    assert upload.status_code == 413
    assert "TENURE_MAX_UPLOAD_BYTES" in upload.json()["message"]

    fits = client.post("/api/v1/people", json={"first_name": "Fits"}, headers=admin.headers)
    assert fits.status_code == 201


def test_openapi_declares_bearer_auth_and_every_error(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `tenure token create`.",
    }
    assert "error" in schema["components"]["schemas"]["ErrorOut"]["required"]
    operations = [
        op
        for path, ops in schema["paths"].items()
        if path.startswith("/api/")
        for op in ops.values()
    ]
    assert len(operations) > 50
    for operation in operations:
        assert operation["security"] == [{"bearerAuth": []}]
        for status in ("401", "403", "404", "409", "413", "422"):
            assert status in operation["responses"], (operation["operationId"], status)
    unauthenticated = client.get("/api/v1/people")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "unauthenticated"


def test_a_note_holds_up_to_100000_characters_like_every_long_text(client, admin):
    person = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=admin.headers)
    url = f"/api/v1/people/{person.json()['id']}/notes"
    longest = client.post(url, json={"body": "x" * 100_000}, headers=admin.headers)
    assert longest.status_code == 201 and len(longest.json()["body"]) == 100_000
    over = client.post(url, json={"body": "x" * 100_001}, headers=admin.headers)
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "body"
