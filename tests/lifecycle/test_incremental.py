"""Stages follow events as they arrive: POST /api/v1/events and JSON-lines imports."""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import func, select

from tenure.db.types import utcnow
from tenure.lifecycle.models import StageHistory
from tenure.timeline.jsonl import import_events_jsonl
from tenure.timeline.models import Event

from .helpers import event, order, person, stage_of, store


def _stage_events(session, person_id: int) -> list[dict]:
    rows = session.scalars(
        select(Event)
        .where(Event.person_id == person_id, Event.type == "stage_changed")
        .order_by(Event.id)
    )
    return [e.payload | {"source_column": e.source, "at": e.occurred_at} for e in rows]


def _post(client, admin, events) -> dict:
    response = client.post("/api/v1/events", json=events, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_api_moves_the_batch_people_and_writes_each_change_once(client, admin, session):
    # Given two known people and a third whose events arrive outside the API
    now = utcnow()
    buyer, browser, bystander = (person(session, n) for n in ("Buyer", "Browser", "Bystander"))
    store(session, [event(bystander, "visit", now - timedelta(days=3))])
    session.commit()

    # When a batch brings a visit for one and a first order for the other
    batch = [
        {**event(browser, "visit", now - timedelta(days=2)), "client_event_id": "v-1"},
        {**order(buyer, now - timedelta(days=1)), "client_event_id": "o-1"},
    ]
    assert _post(client, admin, batch)["stored"] == 2

    # Then only the people of the batch are placed, each by one change
    assert stage_of(session, browser) == "lead"
    assert stage_of(session, buyer) == "new_customer"
    assert stage_of(session, bystander) is None
    changes = _stage_events(session, buyer)
    assert len(changes) == 1
    assert changes[0]["from"] is None and changes[0]["to"] == "new_customer"
    assert changes[0]["to_name"] == "New customer" and changes[0]["source"] == "rule"
    assert changes[0]["reason"] == "New customer: first order"
    assert changes[0]["source_column"] == "lifecycle"

    # When the same batch is sent again (all duplicates) and a visit changes nothing
    assert len(_post(client, admin, batch)["duplicates"]) == 2
    _post(client, admin, [event(buyer, "visit", now - timedelta(hours=5))])
    assert len(_stage_events(session, buyer)) == 1

    # When a second order arrives, the buyer becomes Active (not scored yet)
    _post(client, admin, [order(buyer, now - timedelta(hours=1))])
    changes = _stage_events(session, buyer)
    assert [(c["from"], c["to"]) for c in changes] == [
        (None, "new_customer"),
        ("new_customer", "active"),
    ]

    # Then the history has the same two changes, with their rule, and the timeline shows them
    history = client.get(f"/api/v1/lifecycle/people/{buyer}/history", headers=admin.headers)
    assert [(h["from"], h["to"]) for h in history.json()["items"]] == [
        ("new_customer", "active"),
        (None, "new_customer"),
    ]
    assert all(h["source"] == "rule" and h["rule_id"] for h in history.json()["items"])
    history_ids = {h["id"] for h in history.json()["items"]}
    assert {c["history_id"] for c in changes} == history_ids
    timeline = client.get(f"/api/v1/people/{buyer}/timeline", headers=admin.headers).json()
    assert [e["type"] for e in timeline["items"]].count("stage_changed") == 2


def test_incremental_switch_off_leaves_stages_to_the_batch(client, admin, session):
    buyer = person(session, "Buyer")
    session.commit()
    response = client.put(
        "/api/v1/lifecycle/settings", json={"incremental": False}, headers=admin.headers
    )
    assert response.status_code == 200 and response.json()["incremental"] is False

    _post(client, admin, [order(buyer, utcnow() - timedelta(days=1))])
    assert stage_of(session, buyer) is None

    evaluated = client.post(
        "/api/v1/lifecycle/evaluate", json={"person_ids": [buyer]}, headers=admin.headers
    )
    assert evaluated.status_code == 200
    assert evaluated.json()["changes"] == 1 and evaluated.json()["by_stage"] == {"new_customer": 1}
    assert stage_of(session, buyer) == "new_customer"


def test_jsonl_import_evaluates_each_chunk(session_factory, session, tmp_path):
    now = utcnow()
    people = [person(session, f"P{i}") for i in range(3)]
    session.commit()
    lines = [order(people[0], now - timedelta(days=3)), event(people[1], "chat", now)]
    lines += [order(people[0], now - timedelta(days=1))]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")

    report = import_events_jsonl(path=path, session_factory=session_factory, chunk_size=2)

    assert report.imported == 3
    assert stage_of(session, people[0]) == "active"
    assert stage_of(session, people[1]) == "lead"
    assert stage_of(session, people[2]) is None
    # The first chunk made people[0] a new customer, the second an active one.
    history = session.scalar(select(func.count()).where(StageHistory.person_id == people[0]))
    assert history == 2


def test_an_email_tenure_sent_places_no_one_unless_a_rule_counts_it(client, admin, session):
    # Given a person with no stage yet
    now = utcnow()
    mailed = person(session, "Mailed")
    session.commit()

    # When Tenure's own email is recorded: no rule reads it, the person stays unplaced
    _post(client, admin, [{**event(mailed, "email_sent", now - timedelta(hours=2))}])
    assert stage_of(session, mailed) is None

    # When a rule counts sent emails by name, the next one places the person
    stage = {"key": "mailed", "name": "Mailed", "position": 1}
    assert client.post("/api/v1/lifecycle/stages", json=stage, headers=admin.headers).is_success
    rule = {
        "stage": "mailed",
        "name": "Was emailed",
        "priority": 1,
        "condition": {"events": {"type": "email_sent"}, "op": ">=", "value": 1},
    }
    created = client.post("/api/v1/lifecycle/rules", json=rule, headers=admin.headers)
    assert created.status_code == 201, created.text
    _post(client, admin, [{**event(mailed, "email_sent", now - timedelta(hours=1))}])
    assert stage_of(session, mailed) == "mailed"
