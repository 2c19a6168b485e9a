"""Logged calls, meetings and emails, and notes, on the timeline over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _person(client, admin, **body) -> int:
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_logged_call_is_an_event_on_the_timeline(client, admin, session):
    fix_now(session, NOW)
    session.commit()
    person_id = _person(client, admin, first_name="Grace")
    response = client.post(
        f"/api/v1/people/{person_id}/activities",
        json={
            "kind": "call",
            "direction": "inbound",
            "outcome": "Agreed to a demo",
            "duration_minutes": 25,
            "notes": "Wants pricing for 40 seats",
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["person_ids"] == [person_id]
    assert datetime.fromisoformat(response.json()["occurred_at"]) == NOW

    event = session.scalar(select(Event).where(Event.person_id == person_id, Event.type == "call"))
    assert event is not None
    assert (event.channel, event.source) == ("phone", "logged")
    assert event.occurred_at == NOW  # the workspace clock, not the wall clock
    assert event.payload["outcome"] == "Agreed to a demo"
    assert event.payload["direction"] == "inbound"
    assert event.payload["duration_minutes"] == 25
    assert event.payload["logged_by_id"] == admin.id

    timeline = client.get(
        f"/api/v1/people/{person_id}/timeline", params={"channel": "phone"}, headers=admin.headers
    ).json()["items"]
    assert [e["type"] for e in timeline] == ["call"]


def test_activity_input_is_checked_field_by_field(client, admin):
    person_id = _person(client, admin, first_name="Alan")
    url = f"/api/v1/people/{person_id}/activities"
    cases = [
        ({"kind": "fax", "outcome": "sent"}, "kind"),
        ({"kind": "call", "outcome": ""}, "outcome"),
        ({"kind": "call", "outcome": "ok", "duration_minutes": -5}, "duration_minutes"),
        ({"kind": "call", "outcome": "ok", "direction": "sideways"}, "direction"),
        ({"kind": "call", "outcome": "ok", "occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, response.text
    missing = client.post(
        "/api/v1/people/999999/activities",
        json={"kind": "call", "outcome": "ok"},
        headers=admin.headers,
    )
    assert missing.status_code == 404


def test_read_only_roles_cannot_log(client, api_user, admin):
    person_id = _person(client, admin, first_name="Ada")
    analyst = api_user("analyst")
    response = client.post(
        f"/api/v1/people/{person_id}/activities",
        json={"kind": "meeting", "outcome": "held"},
        headers=analyst.headers,
    )
    assert response.status_code == 403


def test_note_appends_a_note_added_event_in_the_same_transaction(client, admin, session):
    person_id = _person(client, admin, first_name="Lise")
    response = client.post(
        f"/api/v1/people/{person_id}/notes",
        json={"body": "Prefers email over calls"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    note_id = response.json()["id"]
    event = session.scalar(
        select(Event).where(Event.person_id == person_id, Event.type == "note_added")
    )
    assert event is not None
    assert event.payload == {
        "note_id": note_id,
        "body": "Prefers email over calls",
        "author_id": admin.id,
    }
    assert event.occurred_at == datetime.fromisoformat(response.json()["created_at"])
