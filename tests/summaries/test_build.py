"""The batched build (``summaries.build.build_many``, the rebuild's hot path) against the
per-person assembly (``documents.assemble``, the pydantic models): the same JSON text,
byte for byte, for people whose rows exercise every conversion the build does by hand
(timestamps with and without fractions, SQLite's text and PostgreSQL's datetimes, JSON
payloads with nesting, floats and non-ASCII text, line items, refunds in several
currencies, control characters, booleans, NULLs, windows cut at 20 events and 5 notes)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from tenure.summaries.build import build_many
from tenure.summaries.documents import assemble
from tenure.summaries.rebuild import STALE, SUMMARIES
from tests.summaries.test_read_model import create, rebuild, summary


def _post(client, admin, path: str, body: object) -> None:
    response = client.post(path, json=body, headers=admin.headers)
    assert response.status_code in (200, 201, 207), response.text


def _event(person_id: int, client_id: str, at: str, **fields: object) -> dict:
    return {
        "type": "visit",
        "occurred_at": at,
        "source": "shop",
        "client_event_id": client_id,
        "person_id": person_id,
        **fields,
    }


def _varied_people(client, admin) -> list[int]:
    ada = create(
        client,
        admin,
        first_name="Åda",
        last_name="Lovelace\u00a0✓",
        tags=["vip", "zeta", "Ärger"],
        identities=[
            {"kind": "email", "value": "ada@x.io"},
            {"kind": "email", "value": "ada.l@y.io", "label": 'work "quoted" \\ tab\t'},
            {"kind": "phone", "value": "(202) 555-0172"},
        ],
    )
    bob = create(client, admin, first_name="Bob", identities=[{"kind": "email", "value": "b@x.io"}])
    cy = create(client, admin, first_name="Cy")  # nothing at all
    events = [
        _event(
            ada,
            "a-order",
            "2026-03-01T10:00:00.123456+01:00",
            type="order",
            amount_minor=2_500,
            currency="EUR",
            channel="web",
            items=[
                {
                    "sku": "ÉCHARPE-1",
                    "category": "scarves",
                    "quantity": 2,
                    "unit_price_minor": 1_000,
                },
                {"sku": None, "category": None, "quantity": 1, "unit_price_minor": 500},
            ],
            payload={
                "note": "line\nbreak \u0001 and “quotes” 🎉",
                "ratio": 0.1,
                "big": 10**17,
                "tiny": 1e-7,
                "whole": 2.0,
                "nested": {"b": [1, None, True, {"z": "ü"}], "a": []},
            },
        ),
        _event(
            ada, "a-refund", "2026-03-02T00:00:00Z", type="refund", amount_minor=300, currency="EUR"
        ),
        _event(
            ada, "a-usd", "2026-03-03T00:00:00.5Z", type="order", amount_minor=700, currency="USD"
        ),
        _event(ada, "a-tie-1", "2026-03-05T00:00:00Z"),
        _event(ada, "a-tie-2", "2026-03-05T00:00:00Z", payload={"k": "same instant"}),
    ]
    events += [
        _event(bob, f"b-{i}", f"2026-02-{1 + i:02d}T{i % 24:02d}:{i:02d}:00.{i:06d}Z")
        for i in range(24)
    ]
    _post(client, admin, "/api/v1/events", events)
    for i in range(7):
        _post(client, admin, f"/api/v1/people/{bob}/notes", {"body": f"note {i}\u0007 ✓\r\n"})
    for due in (None, "2026-04-01T09:00:00.25Z", "2026-04-01T09:00:00Z"):
        _post(
            client,
            admin,
            f"/api/v1/people/{ada}/tasks",
            {"title": f"call «{due}»", **({"due_at": due} if due else {})},
        )
    for status in ("granted", "withdrawn", "granted"):
        consent = {"channel": "email", "purpose": "marketing", "status": status, "source": "form"}
        _post(client, admin, f"/api/v1/people/{ada}/consents", consent)
    _post(
        client,
        admin,
        f"/api/v1/people/{bob}/consents",
        {"channel": "sms", "purpose": "service", "status": "granted", "source": "import"},
    )
    return [ada, bob, cy]


def test_the_batched_build_writes_the_per_person_assembly_byte_for_byte(session, client, admin):
    people = _varied_people(client, admin)
    built = build_many(session, [*people, 10**9])
    assert set(built) == set(people)  # an unknown person is left out
    for person_id in people:
        expected = assemble(session, person_id)
        assert built[person_id] == expected
    ada, bob, _ = people
    card, document = json.loads(built[ada].card), json.loads(built[ada].document)
    assert card["tags"] == sorted(["vip", "zeta", "Ärger"]) and len(card["identities"]) == 3
    order = next(e for e in document["recent_events"] if e["client_event_id"] == "a-order")
    assert order["occurred_at"] == "2026-03-01T09:00:00.123456Z"
    assert order["payload"]["nested"] == {"b": [1, None, True, {"z": "ü"}], "a": []}
    assert [i["quantity"] for i in order["items"]] == [2, 1]
    assert {m["currency"]: m["amount_minor"] for m in document["orders"]["revenue"]} == {
        "EUR": 2_200,
        "USD": 700,
    }
    assert [c["status"] for c in document["consents"]] == ["granted"]
    assert len(document["open_tasks"]) == 3
    bob_document = json.loads(built[bob].document)
    assert len(bob_document["recent_events"]) == 20 and len(bob_document["notes"]) == 5


def test_the_rebuild_stores_what_the_per_person_assembly_gives(session, client, admin):
    people = _varied_people(client, admin)
    rebuild(session)
    for person_id in people:
        row = summary(session, person_id)
        expected = assemble(session, person_id)
        assert row is not None and row.stale is False
        assert (row.card, row.document) == (expected.card, expected.document)


def test_the_rebuild_finds_stale_rows_through_the_partial_index(session):
    """``WHERE stale`` as the index declares it: SQLite skips a partial index for
    ``stale = 1`` and each batch then read every summary already built."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by statistics; the term matters to SQLite only")
    statement = (
        select(SUMMARIES.c.person_id).where(STALE).order_by(SUMMARIES.c.person_id).limit(500)
    )
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    assert any("ix_person_summaries_stale" in row[-1] for row in plan), plan
