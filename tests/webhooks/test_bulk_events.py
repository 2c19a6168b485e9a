"""Events Tenure appends in bulk (``timeline.append_rows``, ``append_from_select``) reach
subscriptions too: their ids are read back when a subscription wants their type, on both
databases (PostgreSQL switches from COPY to INSERT ... RETURNING for them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from tenure.config import Settings
from tenure.customers.models import Organization, Person
from tenure.customers.schemas import NoteCreate
from tenure.db.session import make_session_factory
from tenure.lifecycle.actions import ensure_stage_model
from tenure.timeline import actions as timeline_actions
from tenure.timeline.append import append_from_select
from tenure.timeline.models import Event
from tenure.webhooks.models import WebhookDelivery
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import _append, _drain, _subscribe


def test_stage_changes_and_notes_are_delivered_signed(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    # Given a subscription to stage changes and notes, and the default stage model
    _, secret = _subscribe(hook_engine, receiver.url, ["stage_changed", "note_added"])
    with make_session_factory(hook_engine)() as session:
        ensure_stage_model(session)
        session.commit()
    # When an order places its buyer in a stage (lifecycle appends stage_changed in bulk)
    _append(hook_engine, "order")
    with make_session_factory(hook_engine)() as session:
        buyer = session.scalars(select(Person.id)).one()
        organization = Organization(name="Acme")
        session.add(organization)
        session.commit()
        # and a note is written on the buyer and one on the organization itself
        timeline_actions.add_note(
            session=session, data=NoteCreate(body="Called back"), actor=None, person_id=buyer
        )
        timeline_actions.add_note(
            session=session,
            data=NoteCreate(body="Renewal talk"),
            actor=None,
            organization_id=organization.id,
        )
    _drain(hook_engine, hook_settings)

    # Then each of these events was POSTed once, signed, with its own id
    with Session(hook_engine) as session:
        stored = session.execute(
            select(Event.id, Event.type, Event.person_id)
            .where(Event.type.in_(["stage_changed", "note_added"]))
            .order_by(Event.id)
        ).all()
    assert [e.type for e in stored] == ["stage_changed", "note_added", "note_added"]
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    delivered = sorted((p["data"]["event_id"], p["type"], p["data"]["person_id"]) for p in payloads)
    assert delivered == [(e.id, e.type, e.person_id) for e in stored]
    notes = [p["data"]["payload"]["body"] for p in payloads if p["type"] == "note_added"]
    assert sorted(notes) == ["Called back", "Renewal talk"]


def test_events_appended_from_a_select_are_delivered_when_subscribed(session: Session) -> None:
    from tenure.webhooks import actions

    people = [Person(first_name=f"P{i}", last_name="S") for i in range(3)]
    session.add_all(people)
    session.flush()
    ids = [p.id for p in people]
    entered = select(Person.id).where(Person.id.in_(ids))

    def append() -> int:
        return append_from_select(
            session=session,
            people=entered,
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
            type="segment_entered",
            source="segments",
            payload={"segment_id": 1},
            origin="segments",
        )

    # Without a subscription to the type: stored, no delivery
    assert append() == 3
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    actions.create_subscription(
        session=session,
        url="https://hooks.example.com/s",
        event_types=["segment_entered"],
        actor=None,
        allow_private=False,
    )
    # With one: a delivery per event, naming the event and its person
    assert append() == 3
    deliveries = session.execute(select(WebhookDelivery.event_id, WebhookDelivery.person_id)).all()
    events = session.execute(
        select(Event.id, Event.person_id)
        .where(Event.type == "segment_entered")
        .order_by(Event.id)
        .offset(3)
    ).all()
    assert sorted(deliveries) == [tuple(e) for e in events]
    assert sorted(d.person_id for d in deliveries) == sorted(ids)
