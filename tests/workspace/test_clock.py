"""The workspace clock: one now for business dates, fixed in a workspace replaying history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from tenure.customers.activities import add_note, complete_task, create_task
from tenure.customers.models import Person
from tenure.customers.schemas import NoteCreate, TaskCreate
from tenure.lifecycle.actions import set_stage_override
from tenure.lifecycle.models import PersonStage, StageHistory
from tenure.timeline.append import append_events
from tenure.timeline.models import Event
from tenure.workspace import clock

DEMO_TODAY = datetime(1998, 7, 1, tzinfo=UTC)


def test_the_clock_is_the_real_time_until_fixed(session):
    before = datetime.now(UTC)
    assert before - timedelta(seconds=1) <= clock.now(session) <= datetime.now(UTC)
    assert not clock.is_fixed(session)

    clock.fix_now(session, DEMO_TODAY)
    assert clock.now(session) == DEMO_TODAY
    assert clock.is_fixed(session)


def test_day_after_is_the_next_midnight_in_utc():
    assert clock.day_after(datetime(1998, 6, 30, 21, 52, tzinfo=UTC)) == DEMO_TODAY
    # 23:30 on June 29 in New York (UTC-4) is already June 30 in UTC.
    new_york = datetime(1998, 6, 29, 23, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert clock.day_after(new_york) == DEMO_TODAY


def test_notes_tasks_overrides_and_stages_share_a_fixed_clock(session):
    clock.fix_now(session, DEMO_TODAY)
    person = Person(first_name="Ada", search_text="ada")
    session.add(person)
    session.flush()
    # An order in the replayed log places Ada (the stage reaction, at the clock's now).
    append_events(
        session=session,
        raw_items=[
            {
                "type": "order",
                "occurred_at": "1998-03-02T10:00:00Z",
                "person_id": person.id,
                "amount_minor": 1999,
                "currency": "USD",
            }
        ],
        actor_id=None,
    )
    note = add_note(
        session=session, data=NoteCreate(body="Called"), actor_id=None, person_id=person.id
    )
    task = create_task(
        session=session, data=TaskCreate(title="Call back"), actor_id=None, person_id=person.id
    )
    complete_task(session=session, task_id=task.id, actor_id=None)
    set_stage_override(
        session=session, person_id=person.id, stage="loyal", reason="phone call", actor_id=None
    )

    assert note.created_at == DEMO_TODAY
    assert task.created_at == DEMO_TODAY and task.done_at == DEMO_TODAY
    stage = session.get(PersonStage, person.id)
    session.refresh(stage)
    assert stage.override_at == DEMO_TODAY and stage.entered_at == DEMO_TODAY
    changes = session.scalars(
        select(StageHistory.changed_at).where(StageHistory.person_id == person.id)
    ).all()
    assert changes == [DEMO_TODAY, DEMO_TODAY]  # placed by the rule, then by hand
    stage_events = session.scalars(
        select(Event.occurred_at).where(Event.person_id == person.id, Event.type == "stage_changed")
    ).all()
    assert stage_events == [DEMO_TODAY, DEMO_TODAY]
