"""Deleting built-in rules must leave ingestion and evaluation working (issue 9, item 2).

The categories join read ``first_order_at`` from the activity subquery whether or not a
remaining rule had asked for it; with rules 1 and 2 gone, every order batch answered 500.
"""

from __future__ import annotations


def _order(person_id: int, n: int) -> dict:
    return {
        "type": "order",
        "occurred_at": f"2026-02-0{n}T10:00:00+00:00",
        "source": "shop",
        "client_event_id": f"o-{person_id}-{n}",
        "person_id": person_id,
        "currency": "EUR",
        "items": [{"sku": f"s{n}", "category": f"c{n}", "unit_price_minor": 1500}],
    }


def test_orders_and_evaluation_work_after_deleting_builtin_rules(client, admin):
    model = client.get("/api/v1/lifecycle/model", headers=admin.headers).json()
    rule_ids = [rule["id"] for rule in model["rules"]]
    for rule_id in rule_ids[:2]:
        deleted = client.delete(f"/api/v1/lifecycle/rules/{rule_id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
    remaining = client.get("/api/v1/lifecycle/model", headers=admin.headers).json()["rules"]
    assert [r["id"] for r in remaining] == rule_ids[2:]

    created = client.post(
        "/api/v1/people",
        json={"first_name": "Rae", "identities": [{"kind": "email", "value": "rae@example.com"}]},
        headers=admin.headers,
    )
    person_id = created.json()["id"]
    posted = client.post(
        "/api/v1/events", json=[_order(person_id, 1), _order(person_id, 2)], headers=admin.headers
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["stored"] == 2

    evaluated = client.post(
        "/api/v1/lifecycle/evaluate", json={"person_ids": [person_id]}, headers=admin.headers
    )
    assert evaluated.status_code == 200, evaluated.text
    stage = client.get(f"/api/v1/lifecycle/people/{person_id}", headers=admin.headers).json()
    assert stage["person_id"] == person_id and stage["stage"] is not None


def test_each_remaining_rule_set_ingests_and_evaluates(client, admin):
    """Delete the rules one by one; after each, an order and an evaluation still work."""
    created = client.post(
        "/api/v1/people",
        json={"first_name": "Ike", "identities": [{"kind": "email", "value": "ike@example.com"}]},
        headers=admin.headers,
    )
    person_id = created.json()["id"]
    rules = client.get("/api/v1/lifecycle/model", headers=admin.headers).json()["rules"]
    for n, rule in enumerate(rules, start=1):
        deleted = client.delete(f"/api/v1/lifecycle/rules/{rule['id']}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
        posted = client.post(
            "/api/v1/events", json=[_order(person_id, n % 9 + 1)], headers=admin.headers
        )
        assert posted.status_code == 200, (rule["id"], posted.text)
        evaluated = client.post(
            "/api/v1/lifecycle/evaluate", json={"person_ids": [person_id]}, headers=admin.headers
        )
        assert evaluated.status_code == 200, (rule["id"], evaluated.text)
