"""Duplicates over HTTP: scans, the paged queue, merge, dismiss, merge two people, undo.

Through the real app (TestClient), asserting on the JSON, the rows and the audit log.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.dedup.models import DuplicateCandidate
from tenure.dedup.scan import PAIR_COLUMNS
from tenure.identity.models import AuditEntry
from tests.dedup.test_dedup_scan import write_base


def _person(client, admin, first: str, email: str) -> int:
    body = {
        "first_name": first,
        "last_name": "Lovelace",
        "identities": [{"kind": "email", "value": email}],
    }
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_scan_then_review_the_queue_over_http(client, admin, api_user, session_factory, session):
    write_base(session_factory, 300)
    reader = api_user("analyst", scope="read")
    assert (
        client.post("/api/v1/duplicates/scan", json={}, headers=reader.headers).status_code == 403
    )

    dry = client.post("/api/v1/duplicates/scan", json={"dry_run": True}, headers=admin.headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["counts"]["merged"] == 0 and dry.json()["pairs_total"] > 0
    assert list(dry.json()["pairs"][0]) == list(PAIR_COLUMNS)
    assert client.get("/api/v1/duplicates", headers=admin.headers).json()["items"] == []

    scanned = client.post("/api/v1/duplicates/scan", json={}, headers=admin.headers).json()
    assert scanned["counts"]["merged"] > 0 and scanned["counts"]["queued"] >= 3

    first = client.get("/api/v1/duplicates?limit=2", headers=admin.headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/api/v1/duplicates?limit=2&cursor={first['next_cursor']}", headers=admin.headers
    ).json()
    scores = [p["score"] for p in first["items"] + second["items"]]
    assert scores == sorted(scores, reverse=True)
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}

    pair, other = first["items"]
    detail = client.get(f"/api/v1/duplicates/{pair['id']}", headers=admin.headers).json()
    assert detail["left"]["id"] == pair["left"]["id"] and detail["evidence"]
    assert all(e["words"] for e in detail["evidence"])
    assert detail["survivor_id"] in (pair["left"]["id"], pair["right"]["id"])

    merged = client.post(f"/api/v1/duplicates/{pair['id']}/merge", headers=admin.headers)
    assert merged.status_code == 201, merged.text
    assert merged.json()["survivor_id"] == detail["survivor_id"]
    assert merged.json()["source"] == "review"
    again = client.post(f"/api/v1/duplicates/{pair['id']}/merge", headers=admin.headers)
    assert again.status_code == 409

    dismissed = client.post(f"/api/v1/duplicates/{other['id']}/dismiss", headers=admin.headers)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["left"]["name"]
    assert (
        client.post(f"/api/v1/duplicates/{other['id']}/dismiss", headers=admin.headers).status_code
        == 409
    )
    missing = client.post("/api/v1/duplicates/999999/dismiss", headers=admin.headers)
    assert missing.status_code == 404
    assert session.get(DuplicateCandidate, other["id"]).status == "dismissed"

    actions = {
        a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.actor_id == admin.id))
    }
    assert {"duplicates_scan", "merge", "dismiss"} <= actions


def test_merge_two_people_then_undo_over_http(client, admin, session: Session):
    ada = _person(client, admin, "Ada", "ada@example.com")
    twin = _person(client, admin, "Augusta", "augusta@example.com")

    bad = client.post(f"/api/v1/people/{ada}/merge", json={}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "other_id"
    same = client.post(f"/api/v1/people/{ada}/merge", json={"other_id": ada}, headers=admin.headers)
    assert same.status_code == 422
    keep = client.post(
        f"/api/v1/people/{ada}/merge",
        json={"other_id": twin, "keep_id": 12345678},
        headers=admin.headers,
    )
    assert keep.status_code == 422 and keep.json()["errors"][0]["field"] == "keep_id"

    response = client.post(
        f"/api/v1/people/{twin}/merge", json={"other_id": ada}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    merge = response.json()
    assert (merge["survivor_id"], merge["merged_person_id"]) == (ada, twin)  # the older stays
    assert merge["decisions"]["first_name"]["kept"] == "Augusta"  # the newer record's value
    assert merge["moved_rows"]["identities.person_id"] == 1

    gone = client.get(f"/api/v1/people/{twin}", headers=admin.headers, follow_redirects=False)
    assert gone.status_code == 308 and gone.headers["location"] == f"/api/v1/people/{ada}"
    where = client.get(f"/api/v1/people/{twin}/merged-into", headers=admin.headers).json()
    assert where == {"person_id": twin, "survivor_id": ada, "merge_ids": [merge["id"]]}
    hint = client.post(
        f"/api/v1/people/{twin}/merge", json={"other_id": ada}, headers=admin.headers
    )
    assert hint.status_code == 404 and f"merged into person {ada}" in hint.json()["message"]
    survivor = client.get(f"/api/v1/people/{ada}", headers=admin.headers).json()
    assert {i["value"] for i in survivor["identities"]} == {
        "ada@example.com",
        "augusta@example.com",
    }
    listed = client.get(f"/api/v1/merges?person_id={twin}", headers=admin.headers).json()
    assert [m["id"] for m in listed["items"]] == [merge["id"]]

    undone = client.post(f"/api/v1/merges/{merge['id']}/undo", headers=admin.headers)
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert client.get(f"/api/v1/people/{twin}", headers=admin.headers).status_code == 200
    assert session.get(Person, ada).first_name == "Ada"
    assert (
        client.post(f"/api/v1/merges/{merge['id']}/undo", headers=admin.headers).status_code == 409
    )
    assert client.post("/api/v1/merges/999999/undo", headers=admin.headers).status_code == 404
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "person", AuditEntry.entity_id == str(ada))
        .order_by(AuditEntry.id)  # PostgreSQL returns rows in no set order without it
    ).all()
    assert [e.action for e in entries if e.action in ("merge", "unmerge")] == ["merge", "unmerge"]
    assert all(e.actor_id == admin.id for e in entries)
