"""The segments API over HTTP, through the real app."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tenure.identity.models import AuditEntry

from .conftest import World, build_world

API = "/api/v1/segments"


@pytest.fixture
def seeded(session) -> World:
    world = build_world(session)
    session.commit()
    return world


def test_create_preview_list_get_members_export_refresh_delete(client, admin, seeded):
    headers = admin.headers
    # Preview: the count and a sample, nothing saved
    preview = client.post(f"{API}/preview", json={"filter": "has email"}, headers=headers)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["count"] == 4
    assert [p["first_name"] for p in body["sample"]] == ["Ada", "Cy", "Dee", "Fay"]

    # Create: members are computed at once
    created = client.post(API, json={"name": "Reachable", "filter": "has email"}, headers=headers)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["member_count"] == 4 and segment["kind"] == "dynamic"
    assert not segment["builtin"]
    url = f"{API}/{segment['id']}"

    # List: own segments first, then the 13 built-ins
    listed = client.get(API, headers=headers).json()["items"]
    assert listed[0]["name"] == "Reachable"
    assert sum(1 for s in listed if s["builtin"]) == 13

    assert client.get(url, headers=headers).json()["filter"] == "has email"

    # Members, keyset paged
    first = client.get(f"{url}/members?limit=3", headers=headers).json()
    assert [p["first_name"] for p in first["items"]] == ["Ada", "Cy", "Dee"]
    rest = client.get(f"{url}/members?limit=3&cursor={first['next_cursor']}", headers=headers)
    assert [p["first_name"] for p in rest.json()["items"]] == ["Fay"]
    assert rest.json()["next_cursor"] is None
    assert "entered_at" in first["items"][0]

    # Export: CSV, streamed
    export = client.get(f"{url}/export", headers=headers)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.text.splitlines()[0].startswith("person_id,first_name")
    assert len(export.text.strip().splitlines()) == 5

    # Update the filter: applied at once
    patched = client.patch(url, json={"filter": 'tag = "vip"'}, headers=headers)
    assert patched.status_code == 200 and patched.json()["member_count"] == 2

    # Refresh, snapshots
    refreshed = client.post(f"{url}/refresh", headers=headers).json()
    assert (refreshed["members"], refreshed["entered"], refreshed["exited"]) == (2, 0, 0)
    history = client.get(f"{url}/snapshots", headers=headers).json()["items"]
    assert [h["members"] for h in history] == [4, 2, 2]

    # Delete, audited
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    actions = seeded.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "segment", AuditEntry.entity_id == str(segment["id"])
        )
    ).all()
    assert sorted(actions) == ["create", "delete", "update"]


BAD_FILTERS = [
    ("/preview", {"filter": "tag = "}, 6),
    ("", {"name": "Broken", "filter": 'clv > "lots"'}, 6),
    ("", {"name": "Typo", "filter": "count(order, last 9 dayz) > 1"}, 20),
    ("/preview", {"filter": 'attribute.plan"; DROP TABLE people; --'}, 14),
    # Beyond 64 bits: no stored integer is that large and SQLite cannot bind it (was a 500).
    ("/preview", {"filter": "attribute.seats > 99999999999999999999"}, 18),
    ("/preview", {"filter": "count(order) > 9223372036854775808"}, 15),
    ("/preview", {"filter": "clv < -92233720368547758.09"}, 6),
    ("/preview", {"filter": "id in (1, 9223372036854775808)"}, 10),
]


def test_a_bad_filter_is_a_422_naming_filter_and_position(client, admin, seeded):
    for path, payload, position in BAD_FILTERS:
        response = client.post(API + path, json=payload, headers=admin.headers)
        assert response.status_code == 422, payload
        error = response.json()["errors"][0]
        assert error["field"] == "filter"
        assert error["position"] == position
        assert f"at position {position}" in error["reason"]
        assert isinstance(error["expected"], list)
    # Nothing was created
    names = [s["name"] for s in client.get(API, headers=admin.headers).json()["items"]]
    assert "Broken" not in names and "Typo" not in names


def test_static_lists_over_http(client, admin, seeded):
    ids = seeded.ids
    created = client.post(
        API,
        json={"name": "Board", "kind": "static", "person_ids": [ids["ada"]]},
        headers=admin.headers,
    ).json()
    url = f"{API}/{created['id']}/members"
    change = client.post(
        url, json={"add": [ids["bob"], ids["cy"]], "remove": [ids["ada"]]}, headers=admin.headers
    ).json()
    assert (change["members"], change["entered"], change["exited"]) == (2, 2, 1)
    unknown = client.post(url, json={"add": [10**9]}, headers=admin.headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "add"
    refresh = client.post(f"{API}/{created['id']}/refresh", headers=admin.headers)
    assert refresh.status_code == 409


def test_builtins_are_read_only_and_writes_need_a_writer(client, admin, api_user, seeded):
    items = client.get(API, headers=admin.headers).json()["items"]
    champions = next(s for s in items if s["builtin_key"] == "rfm.champions")
    assert client.delete(f"{API}/{champions['id']}", headers=admin.headers).status_code == 409
    patch = client.patch(f"{API}/{champions['id']}", json={"name": "X"}, headers=admin.headers)
    assert patch.status_code == 409
    refreshed = client.post(f"{API}/{champions['id']}/refresh", headers=admin.headers).json()
    assert refreshed["members"] == 1

    analyst = api_user("analyst", scope="read")
    assert (
        client.post(f"{API}/preview", json={"filter": "has phone"}, headers=analyst.headers).json()[
            "count"
        ]
        == 1
    )
    denied = client.post(API, json={"name": "N", "filter": "has phone"}, headers=analyst.headers)
    assert denied.status_code == 403
    assert client.get(API).status_code == 401


def test_refresh_all_and_duplicate_names(client, admin, seeded):
    client.post(API, json={"name": "VIPs", "filter": 'tag = "vip"'}, headers=admin.headers)
    duplicate = client.post(
        API, json={"name": "VIPs", "filter": "has email"}, headers=admin.headers
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"
    result = client.post(f"{API}/refresh", headers=admin.headers).json()
    assert result["failed"] == {}
    assert {c["name"] for c in result["items"]} >= {"VIPs", "Champions", "Premium customers"}
    missing = client.post(API, json={"name": "S", "kind": "dynamic"}, headers=admin.headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "filter"


def test_an_empty_static_list_can_be_created(client, admin, seeded):
    # Found by schemathesis: an empty list answered 500 on PostgreSQL (untyped ARRAY[]).
    response = client.post(
        "/api/v1/segments",
        headers=admin.headers,
        json={"name": "Later", "kind": "static", "person_ids": [], "filter": ""},
    )
    assert response.status_code == 201, response.text
    assert response.json()["member_count"] == 0
