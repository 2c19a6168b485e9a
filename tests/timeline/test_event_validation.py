"""POST /api/v1/events refuses what it cannot store faithfully, item by item (issue 9):
integers beyond 64 bits, loose money types, unknown currencies, dates out of range,
amounts that disagree with their items, oversized events; each under its field name."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tenure.timeline.models import Event

BIG = 2**63


def _person(client, admin) -> int:
    response = client.post("/api/v1/people", json={"first_name": "Val"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _order(who: int, n: int, **extra) -> dict:
    return {
        "type": "order",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "source": "shop",
        "client_event_id": f"v-{n}",
        "person_id": who,
        "amount_minor": 1200,
        "currency": "EUR",
        **extra,
    }


def _post(client, admin, body):
    return client.post("/api/v1/events", json=body, headers=admin.headers)


def _stored(session, person_id: int) -> int:
    query = select(func.count()).where(Event.person_id == person_id, Event.type == "order")
    return session.scalar(query)


def _fields(response) -> dict[int, list[str]]:
    return {r["index"]: [e["field"] for e in r["errors"]] for r in response.json()["rejected"]}


def test_one_item_beyond_64_bits_is_one_rejected_item(client, admin, session):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, 1),
        _order(person_id, 2, amount_minor=BIG),
        _order(person_id, 3, amount_minor=None, items=[{"unit_price_minor": BIG}]),
        _order(person_id, 4, payload={"seats": 2**70}),
        _order(person_id, 5, person_id=BIG),
        _order(person_id, 6, payload={"nested": [{"deep": -(2**64)}]}),
        _order(person_id, 7),
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 207, response.text
    assert response.json()["stored"] == 2
    assert _fields(response) == {
        1: ["amount_minor"],
        2: ["items.0.unit_price_minor"],
        3: ["payload"],
        4: ["person_id"],
        5: ["payload"],
    }
    reasons = {r["index"]: r["errors"][0]["reason"] for r in response.json()["rejected"]}
    assert "payload.seats" in reasons[3] and "64 bits" in reasons[3]
    assert _stored(session, person_id) == 2


def test_money_and_ids_are_strict_types(client, admin, session):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, 1, amount_minor=1200.0),
        _order(person_id, 2, amount_minor="1200"),
        _order(person_id, 3, amount_minor=True),
        _order(person_id, 4, person_id=str(person_id)),
        _order(person_id, 5, amount_minor=None, items=[{"unit_price_minor": 5, "quantity": 1.0}]),
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 422, response.text
    assert _fields(response) == {
        0: ["amount_minor"],
        1: ["amount_minor"],
        2: ["amount_minor"],
        3: ["person_id"],
        4: ["items.0.quantity"],
    }
    assert _stored(session, person_id) == 0


def test_currency_must_be_iso_4217_and_dates_in_range(client, admin, session):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, 1, currency="ZZZ"),
        _order(person_id, 2, occurred_at="0001-01-01T00:00:00+00:00"),
        _order(person_id, 3, occurred_at="2999-01-01T00:00:00+00:00"),
        _order(person_id, 4, occurred_at="1899-12-31T23:59:59+00:00"),
        _order(person_id, 5, currency="JPY", occurred_at="1900-01-01T00:00:00+00:00"),
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 207, response.text
    assert _fields(response) == {
        0: ["currency"],
        1: ["occurred_at"],
        2: ["occurred_at"],
        3: ["occurred_at"],
    }
    rejected = response.json()["rejected"]
    assert "ISO 4217" in rejected[0]["errors"][0]["reason"]
    assert "1900-01-01" in rejected[1]["errors"][0]["reason"]
    assert "future" in rejected[2]["errors"][0]["reason"]
    assert _stored(session, person_id) == 1


def test_amount_must_agree_with_line_items(client, admin, session):
    person_id = _person(client, admin)
    items = [{"quantity": 2, "unit_price_minor": 500}, {"unit_price_minor": 100}]
    batch = [
        _order(person_id, 1, amount_minor=1200, items=items),
        _order(person_id, 2, amount_minor=1100, items=items),
        _order(person_id, 3, amount_minor=None, items=items),
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 207, response.text
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 0
    assert rejected["errors"] == [
        {
            "field": "amount_minor",
            "reason": "is 1200 but the items add up to 1100 (quantity x unit_price_minor)",
        }
    ]
    amounts = session.scalars(
        select(Event.amount_minor)
        .where(Event.person_id == person_id, Event.type == "order")
        .order_by(Event.id)
    ).all()
    assert amounts == [1100, 1100]


def test_rules_over_several_fields_name_their_field(client, admin):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, 1, amount_minor=-5),
        _order(person_id, 2, currency=None),
        _order(person_id, 3, amount_minor=None),
        {**_order(person_id, 4), "email": "val@example.com"},
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 422, response.text
    assert _fields(response) == {
        0: ["amount_minor"],
        1: ["currency"],
        2: ["amount_minor"],
        3: ["person_id"],
    }


def test_event_size_and_payload_strings_are_capped(client, admin, session):
    person_id = _person(client, admin)
    batch = [
        _order(person_id, 1, payload={"note": "x" * 70_000}),
        _order(person_id, 2, payload={"note": "x" * 100_001}),
        _order(person_id, 3, payload={"note": "x" * 1000}),
    ]
    response = _post(client, admin, batch)
    assert response.status_code == 207, response.text
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [0, 1]
    assert rejected[0]["errors"][0]["field"] == "payload"
    assert "65,536 bytes" in rejected[0]["errors"][0]["reason"]
    assert "longer than 100000 characters" in rejected[1]["errors"][0]["reason"]
    assert _stored(session, person_id) == 1


def test_an_empty_body_is_invalid_input_as_documented(client, admin):
    response = client.post("/api/v1/events", content=b"", headers=admin.headers)
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "errors": [
            {
                "field": "body",
                "reason": "is empty: send an event object or an array of events",
            }
        ],
    }
    documented = client.get("/openapi.json").json()["paths"]["/api/v1/events"]["post"]
    schema = documented["responses"]["422"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/ErrorOut"} in schema["anyOf"]


def test_nul_characters_and_non_finite_numbers_are_rejected_items(client, admin, session):
    person_id = _person(client, admin)
    body = (
        "["
        + ",".join(
            [
                json.dumps(_order(person_id, 1, payload={"note": "a\u0000b"})),
                json.dumps(_order(person_id, 2, source="shop\u0000")),
                json.dumps(_order(person_id, 3)).replace(
                    '"amount_minor": 1200', '"amount_minor": 1200, "payload": {"x": 1e400}'
                ),
                json.dumps(_order(person_id, 4)),
            ]
        )
        + "]"
    )
    response = client.post(
        "/api/v1/events",
        content=body,
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert response.status_code == 207, response.text
    assert _fields(response) == {0: ["payload"], 1: ["source"], 2: ["payload"]}
    reasons = {r["index"]: r["errors"][0]["reason"] for r in response.json()["rejected"]}
    assert "payload.note contains a NUL" in reasons[0]
    assert "payload.x is not a finite number" in reasons[2]
    assert _stored(session, person_id) == 1
