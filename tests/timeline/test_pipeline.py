"""The event pipeline: one append path, reactions in order, stages moved from every path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenure.customers.models import Identity, Person
from tenure.db.session import unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.ingest.csv_import import path_opener
from tenure.ingest.email_import import email_source
from tenure.ingest.runner import run_import
from tenure.lifecycle.models import PersonStage, StageHistory
from tenure.lifecycle.queries import stage_model
from tenure.timeline.append import append_events, append_rows
from tenure.timeline.ingest import EVENT_COLUMNS
from tenure.timeline.jsonl import import_events_jsonl
from tenure.timeline.models import Event
from tenure.timeline.pipeline import (
    Appended,
    PipelineNotConfigured,
    reactions,
    replaced_reactions,
)

EMAILS = Path(__file__).parents[1] / "ingest" / "data" / "support.mbox"


def _person(session, name: str) -> int:
    person = Person(first_name=name, search_text=name.lower())
    session.add(person)
    session.flush()
    return person.id


def _order(person_id: int, day: str, client_id: str) -> dict:
    return {
        "type": "order",
        "occurred_at": f"{day}T10:00:00Z",
        "person_id": person_id,
        "amount_minor": 1500,
        "currency": "EUR",
        "client_event_id": client_id,
    }


def _stage_key(session, person_id: int) -> str | None:
    row = session.get(PersonStage, person_id)
    if row is None:
        return None
    return stage_model(session).by_id[row.stage_id].key


def test_append_returns_the_people_touched_and_runs_reactions_in_order(session):
    ada, bob = _person(session, "Ada"), _person(session, "Bob")
    seen: list[tuple[str, Appended]] = []

    def second(_session, appended):
        seen.append(("second", appended))

    def first(_session, appended):
        seen.append(("first", appended))

    with replaced_reactions(("b.second", second, 20), ("a.first", first, 10)):
        result = append_events(
            session=session,
            raw_items=[
                _order(bob, "2026-01-02", "o-1"),
                _order(ada, "2026-01-03", "o-2"),
                _order(bob, "2026-01-04", "o-3"),
                {"type": "visit", "occurred_at": "bad date", "person_id": ada},
            ],
            actor_id=None,
        )
    assert result.person_ids == sorted([ada, bob])
    assert result.stored == 3 and len(result.rejected) == 1
    assert [name for name, _ in seen] == ["first", "second"]
    appended = seen[0][1]
    assert appended.person_ids == tuple(sorted([ada, bob]))
    assert appended.types == frozenset({"order"})
    assert appended.event_ids == tuple(result.stored_ids)
    # The registry is back as start-up left it: lifecycle's stage reaction first.
    assert reactions()[0].name == "lifecycle.stages"


def test_a_reaction_skips_its_own_origin_and_nested_appends_react(session):
    ada = _person(session, "Ada")
    seen: list[str] = []

    def follow_up(session_, appended):
        seen.append(appended.origin)
        if appended.origin == "outside":
            row = dict.fromkeys(EVENT_COLUMNS)
            row.update(
                person_id=ada,
                occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
                received_at=datetime(2026, 1, 5, tzinfo=UTC),
                type="follow_up",
                source="tests",
                payload={},
            )
            append_rows(session=session_, rows=[tuple(row.values())], origin="tests")

    with replaced_reactions(("tests.follow_up", follow_up, 10)):
        append_events(session=session, raw_items=[_order(ada, "2026-01-04", "o-9")], actor_id=None)
    # The nested append ran the pipeline again, one level deeper.
    assert seen == ["outside", "tests"]
    types = session.scalars(select(Event.type).where(Event.person_id == ada)).all()
    assert sorted(types) == ["follow_up", "order"]


def test_appending_with_no_reaction_registered_is_refused(session):
    ada = _person(session, "Ada")
    with replaced_reactions(), pytest.raises(PipelineNotConfigured, match="register_all"):
        append_events(session=session, raw_items=[_order(ada, "2026-01-04", "o-1")], actor_id=None)


def test_an_unknown_email_becomes_a_person_through_customers(session):
    result = append_events(
        session=session,
        raw_items=[
            {"type": "visit", "occurred_at": "2026-01-04T10:00:00Z", "email": "New@Example.com"}
        ],
        actor_id=None,
    )
    person_id = session.scalar(
        select(Identity.person_id).where(Identity.value == "new@example.com")
    )
    assert result.person_ids == [person_id]
    audit = session.scalar(
        select(AuditEntry).where(AuditEntry.entity_type == "person", AuditEntry.action == "create")
    )
    assert audit is not None and audit.entity_id == str(person_id)
    # A visit is an interaction: the stage reaction made the newcomer a lead.
    assert _stage_key(session, person_id) == "lead"


def test_events_from_the_api_move_stages(client, admin, session):
    ada = _person(session, "Ada")
    session.commit()
    response = client.post(
        "/api/v1/events",
        json=[_order(ada, "2026-01-02", "api-1")],
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["person_ids"] == [ada]
    session.expire_all()
    assert _stage_key(session, ada) == "new_customer"
    history = session.scalars(select(StageHistory).where(StageHistory.person_id == ada)).all()
    assert [h.source for h in history] == ["rule"]


def test_events_from_jsonl_move_stages(session_factory, session, tmp_path):
    ada = _person(session, "Ada")
    session.commit()
    path = tmp_path / "events.jsonl"
    line = {
        "type": "order",
        "occurred_at": "2026-01-02T10:00:00Z",
        "person_id": ada,
        "amount_minor": 900,
        "currency": "EUR",
    }
    path.write_text(json.dumps(line) + "\n")
    report = import_events_jsonl(path=path, session_factory=session_factory)
    assert report.imported == 1
    session.expire_all()
    assert _stage_key(session, ada) == "new_customer"


def test_events_from_the_email_import_move_stages(session_factory, session):
    create_user(session=session, email="sue@acme.test", role="support", password=None)
    session.commit()
    with unit_of_work(session_factory) as work:
        source = email_source(work, opener=path_opener(EMAILS), file_name="support.mbox")
    report = run_import(session_factory=session_factory, source=source, actor_id=None)
    assert report.counts()["created"] == 3
    session.expire_all()
    ada = session.scalar(select(Identity.person_id).where(Identity.value == "ada@example.com"))
    # Before the pipeline, email events never moved a stage: Ada wrote in, she is a lead.
    assert _stage_key(session, ada) == "lead"
    changed = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.person_id == ada, Event.type == "stage_changed")
    )
    assert changed == 1


def test_derived_events_are_stored_when_nothing_is_registered(session):
    # A script evaluating stages without start-up registration still records its changes.
    ada = _person(session, "Ada")
    row = dict.fromkeys(EVENT_COLUMNS)
    row.update(
        person_id=ada,
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
        received_at=datetime(2026, 1, 5, tzinfo=UTC),
        type="stage_changed",
        source="lifecycle",
        payload={},
    )
    with replaced_reactions():
        assert append_rows(session=session, rows=[tuple(row.values())], origin="lifecycle") == [ada]
