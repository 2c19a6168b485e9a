"""POST /api/v1/events: single events, batches, idempotency and per-item rejection."""

from __future__ import annotations

from sqlalchemy import func, select

from tenure.customers.models import Identity
from tenure.timeline.models import Event, EventItem


def _person(client, admin, email="buyer@example.com") -> int:
    response = client.post(
        "/api/v1/people",
        json={"first_name": "Bea", "identities": [{"kind": "email", "value": email}]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _order(person_id: int, client_id: str, amount: int = 2599, **extra) -> dict:
    return {
        "type": "order",
        "occurred_at": "2026-03-01T10:00:00+01:00",
        "source": "shop",
        "client_event_id": client_id,
        "channel": "web",
        "person_id": person_id,
        "currency": "EUR",
        "items": [
            {"sku": "A1", "category": "books", "quantity": 2, "unit_price_minor": 1000},
            {"sku": "B2", "category": "music", "quantity": 1, "unit_price_minor": 599},
        ],
        **extra,
    }


def test_single_event_is_stored_once(client, admin, session):
    person_id = _person(client, admin)
    first = client.post("/api/v1/events", json=_order(person_id, "o-1"), headers=admin.headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["stored"] == 1 and body["duplicates"] == [] and body["rejected"] == []
    event_id = body["stored_ids"][0]

    again = client.post("/api/v1/events", json=_order(person_id, "o-1"), headers=admin.headers)
    assert again.status_code == 200
    assert again.json()["duplicates"] == [
        {"index": 0, "client_event_id": "o-1", "event_id": event_id}
    ]
    stored = select(func.count()).select_from(Event).where(Event.type != "stage_changed")
    assert session.scalar(stored) == 1

    event = session.get(Event, event_id)
    assert event.amount_minor == 2599  # derived from the line items
    assert event.occurred_at.isoformat() == "2026-03-01T09:00:00+00:00"
    items = session.scalars(select(EventItem).where(EventItem.event_id == event_id)).all()
    assert sorted((i.sku, i.quantity, i.unit_price_minor) for i in items) == [
        ("A1", 2, 1000),
        ("B2", 1, 599),
    ]


def test_same_client_id_from_another_source_is_a_new_event(client, admin):
    person_id = _person(client, admin)
    client.post("/api/v1/events", json=_order(person_id, "x"), headers=admin.headers)
    other = dict(_order(person_id, "x"), source="pos")
    response = client.post("/api/v1/events", json=other, headers=admin.headers)
    assert response.status_code == 201


def test_batch_stores_good_items_and_lists_every_other_one(client, admin, session):
    person_id = _person(client, admin)
    client.post("/api/v1/events", json=_order(person_id, "seen"), headers=admin.headers)
    batch = [
        _order(person_id, "b-1"),
        _order(person_id, "seen"),  # stored before
        {"type": "order", "occurred_at": "2026-03-01T10:00:00", "person_id": person_id},
        _order(person_id, "b-2"),
        _order(person_id, "b-2"),  # repeated inside the batch
        _order(999_999, "b-3"),  # unknown person
        {"type": "visit", "occurred_at": "2026-03-02T08:00:00Z", "email": "NEW@example.com"},
    ]
    response = client.post("/api/v1/events", json=batch, headers=admin.headers)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["received"] == 7
    assert body["stored"] == 3
    assert [(d["index"], d["client_event_id"]) for d in body["duplicates"]] == [
        (1, "seen"),
        (4, "b-2"),
    ]
    rejected = {r["index"]: r for r in body["rejected"]}
    assert set(rejected) == {2, 5}
    fields = {e["field"] for e in rejected[2]["errors"]}
    assert "occurred_at" in fields  # naive timestamp refused
    assert rejected[5]["errors"] == [{"field": "person_id", "reason": "no person 999999"}]
    # every item is accounted for: stored, duplicate or rejected
    assert body["stored"] + len(body["duplicates"]) + len(body["rejected"]) == len(batch)

    # an unknown email creates a person with that identity
    owner = session.scalar(select(Identity.person_id).where(Identity.value == "new@example.com"))
    assert owner is not None
    types = session.scalars(select(Event.type).where(Event.person_id == owner)).all()
    assert [t for t in types if t != "stage_changed"] == ["visit"]


def test_all_invalid_batch_is_422(client, admin):
    response = client.post(
        "/api/v1/events",
        json=[{"type": "order"}, {"type": "Bad Type!", "occurred_at": "2026-01-01T00:00:00Z"}],
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1]


def test_orders_need_money(client, admin):
    person_id = _person(client, admin)
    event = {
        "type": "refund",
        "occurred_at": "2026-03-01T10:00:00Z",
        "person_id": person_id,
        "amount_minor": 500,
    }
    response = client.post("/api/v1/events", json=event, headers=admin.headers)
    assert response.status_code == 422
    assert "currency" in response.json()["rejected"][0]["errors"][0]["reason"]


def test_batch_size_is_limited_and_body_must_be_json(client, admin, settings):
    too_many = [{"type": "visit"}] * (settings.max_event_batch + 1)
    response = client.post("/api/v1/events", json=too_many, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    response = client.post(
        "/api/v1/events",
        content=b"{not json",
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422


def test_new_event_types_need_no_schema_change(client, admin):
    person_id = _person(client, admin)
    response = client.post(
        "/api/v1/events",
        json={
            "type": "survey_answered",
            "occurred_at": "2026-04-01T12:00:00Z",
            "person_id": person_id,
            "channel": "email",
            "payload": {"survey": "nps", "score": 9, "comment": "Great"},
        },
        headers=admin.headers,
    )
    assert response.status_code == 201
    timeline = client.get(
        f"/api/v1/people/{person_id}/timeline",
        params={"type": "survey_answered"},
        headers=admin.headers,
    ).json()
    assert timeline["items"][0]["payload"] == {"survey": "nps", "score": 9, "comment": "Great"}


def test_360_view_and_timeline_paging(client, admin):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, f"o-{n}", occurred_at=f"2026-01-{n + 1:02d}T12:00:00Z") for n in range(5)
    ]
    batch.append(
        {
            "type": "refund",
            "occurred_at": "2026-01-20T12:00:00Z",
            "person_id": person_id,
            "source": "shop",
            "client_event_id": "r-1",
            "amount_minor": 599,
            "currency": "EUR",
        }
    )
    batch.append(
        {
            "type": "email_opened",
            "occurred_at": "2026-01-21T12:00:00Z",
            "person_id": person_id,
            "channel": "email",
        }
    )
    assert client.post("/api/v1/events", json=batch, headers=admin.headers).status_code == 200

    view = client.get(f"/api/v1/people/{person_id}", headers=admin.headers).json()
    assert view["orders"]["order_count"] == 5
    assert view["orders"]["revenue"] == [{"currency": "EUR", "amount_minor": 5 * 2599 - 599}]
    assert view["orders"]["first_order_at"].startswith("2026-01-01T12:00:00")
    assert view["orders"]["last_order_at"].startswith("2026-01-05T12:00:00")
    # lifecycle adds stage_changed events of its own; the rest come newest first
    mine = [e["type"] for e in view["recent_events"] if e["type"] != "stage_changed"]
    assert mine[:2] == ["email_opened", "refund"]
    assert view["identities"][0]["value"] == "buyer@example.com"

    pages, cursor = [], None
    while True:
        params = {"limit": 2, "type": ["order", "refund"]}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/api/v1/people/{person_id}/timeline", params=params, headers=admin.headers
        ).json()
        pages.append([e["client_event_id"] for e in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == [["r-1", "o-4"], ["o-3", "o-2"], ["o-1", "o-0"]]

    by_channel = client.get(
        f"/api/v1/people/{person_id}/timeline", params={"channel": "email"}, headers=admin.headers
    ).json()
    assert [e["type"] for e in by_channel["items"]] == ["email_opened"]
