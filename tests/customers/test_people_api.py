"""People over HTTP: create, read the 360 view, update, delete, filter and page."""

from __future__ import annotations

from sqlalchemy import select

from tenure.customers.models import ConsentRecord, Person
from tenure.identity.models import AuditEntry


def _create(client, admin, **body):
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_person_normalizes_identities_and_audits(client, admin, session):
    person = _create(
        client,
        admin,
        first_name="Ada",
        last_name="Lovelace",
        identities=[
            {"kind": "email", "value": "  Ada.Lovelace@Example.COM "},
            {"kind": "phone", "value": "(202) 555-0172"},
            {"kind": "social", "value": "@AdaL", "namespace": "Twitter"},
        ],
        tags=["vip", "vip", "newsletter"],
    )
    by_kind = {i["kind"]: i for i in person["identities"]}
    assert by_kind["email"]["value"] == "ada.lovelace@example.com"
    assert by_kind["email"]["original"] == "Ada.Lovelace@Example.COM"
    assert by_kind["phone"]["value"] == "+12025550172"
    assert by_kind["social"] == {**by_kind["social"], "namespace": "twitter", "value": "adal"}
    assert all(i["is_primary"] for i in person["identities"])
    assert person["tags"] == ["newsletter", "vip"]

    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "person", AuditEntry.entity_id == str(person["id"])
        )
    )
    assert entry is not None and entry.action == "create" and entry.actor_id == admin.id
    assert entry.changes["last_name"] == {"before": None, "after": "Lovelace"}


def test_email_of_someone_else_is_a_conflict(client, admin):
    _create(client, admin, identities=[{"kind": "email", "value": "taken@example.com"}])
    response = client.post(
        "/api/v1/people",
        json={"identities": [{"kind": "email", "value": "TAKEN@example.com"}]},
        headers=admin.headers,
    )
    assert response.status_code == 409
    assert response.json()["field"] == "identities.0.value"


def test_invalid_body_names_the_field(client, admin):
    response = client.post(
        "/api/v1/people",
        json={"first_name": "A", "identities": [{"kind": "email", "value": "not-an-email"}]},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "identities.0.value"

    response = client.post(
        "/api/v1/people", json={"first_name": 5, "colour": "red"}, headers=admin.headers
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"first_name", "colour"}


def test_unknown_person_is_404(client, admin):
    assert client.get("/api/v1/people/999999", headers=admin.headers).status_code == 404
    assert client.patch("/api/v1/people/999999", json={}, headers=admin.headers).status_code == 404
    response = client.get("/api/v1/people/999999/timeline", headers=admin.headers)
    assert response.status_code == 404


def test_custom_attributes_are_typed(client, admin):
    for definition in (
        {"key": "plan", "label": "Plan", "type": "choice", "choices": ["free", "pro"]},
        {"key": "seats", "label": "Seats", "type": "number"},
        {"key": "renewal", "label": "Renewal", "type": "date"},
    ):
        response = client.post("/api/v1/attributes", json=definition, headers=admin.headers)
        assert response.status_code == 201, response.text
    person = _create(
        client, admin, attributes={"plan": "pro", "seats": 12, "renewal": "2027-01-31"}
    )
    assert person["attributes"] == {"plan": "pro", "seats": 12, "renewal": "2027-01-31"}

    bad = client.patch(
        f"/api/v1/people/{person['id']}",
        json={"attributes": {"plan": "gold"}},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "attributes.plan"
    undeclared = client.patch(
        f"/api/v1/people/{person['id']}", json={"attributes": {"shoe": 9}}, headers=admin.headers
    )
    assert undeclared.status_code == 422

    removed = client.patch(
        f"/api/v1/people/{person['id']}",
        json={"attributes": {"seats": None}},
        headers=admin.headers,
    )
    assert removed.json()["attributes"] == {"plan": "pro", "renewal": "2027-01-31"}


def test_update_records_before_and_after(client, admin, session):
    person = _create(client, admin, first_name="Grace", last_name="Hopper")
    response = client.patch(
        f"/api/v1/people/{person['id']}",
        json={"last_name": "Murray Hopper", "tags": ["navy"]},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.json()["last_name"] == "Murray Hopper"
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(person["id"]), AuditEntry.action == "update"
        )
    )
    assert entry.changes == {
        "last_name": {"before": "Hopper", "after": "Murray Hopper"},
        "tags": {"before": [], "after": ["navy"]},
    }


def test_delete_person(client, admin, session):
    person = _create(client, admin, first_name="Temp")
    response = client.delete(f"/api/v1/people/{person['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert session.get(Person, person["id"]) is None
    assert client.get(f"/api/v1/people/{person['id']}", headers=admin.headers).status_code == 404


def test_consent_history_is_kept(client, admin, session):
    person = _create(
        client,
        admin,
        consents=[
            {"channel": "email", "purpose": "marketing", "status": "granted", "source": "form"}
        ],
    )
    response = client.post(
        f"/api/v1/people/{person['id']}/consents",
        json={"channel": "email", "purpose": "marketing", "status": "withdrawn", "source": "link"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert response.json()["consents"] == [
        {**response.json()["consents"][0], "status": "withdrawn", "source": "link"}
    ]
    rows = session.scalars(
        select(ConsentRecord.status).where(ConsentRecord.person_id == person["id"])
    ).all()
    assert sorted(rows) == ["granted", "withdrawn"]


def test_list_filters_and_keyset_pages(client, admin):
    ids = [
        _create(client, admin, first_name=f"Page{n}", last_name="Tester", tags=["paged"])["id"]
        for n in range(7)
    ]
    _create(client, admin, first_name="Other", last_name="Person")

    seen: list[int] = []
    cursor = None
    while True:
        params = {"tag": "paged", "limit": 3, "sort": "id"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/people", params=params, headers=admin.headers).json()
        seen.extend(p["id"] for p in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids)

    found = client.get("/api/v1/people", params={"q": "page3"}, headers=admin.headers).json()
    assert [p["first_name"] for p in found["items"]] == ["Page3"]

    bad = client.get("/api/v1/people", params={"cursor": "garbage!"}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_search_treats_wildcards_literally(client, admin):
    _create(client, admin, first_name="Percent", last_name="Sign")
    found = client.get("/api/v1/people", params={"q": "%"}, headers=admin.headers).json()
    assert found["items"] == []
