"""The engine on a rolled-back database: re-entry, control groups, versions, pause,
waits for events, branches, splits, field and date triggers, the checks at publish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tenure.automation import actions
from tenure.automation.active import active_versions
from tenure.automation.checks import DefinitionInvalid
from tenure.automation.enrolment import Candidate, enrol, in_holdout
from tenure.automation.models import EnrolmentStep
from tenure.automation.timing import HOLDOUT_STEP
from tenure.automation.triggers import fire_dates, fire_schedules
from tenure.customers import people as customer_people
from tenure.customers.models import Person, Task
from tenure.customers.schemas import PersonUpdate
from tenure.timeline.append import append_events
from tests.automation.conftest import (
    T0,
    at,
    enrolments,
    order,
    person,
    run,
    steps_of,
    workflow,
)

TASKS = [
    {"id": "wait", "kind": "wait", "duration": {"days": 1}},
    {"id": "call", "kind": "create_task", "title": "Call them"},
]


def _on_order(**extra):  # type: ignore[no-untyped-def]
    return {"trigger": {"kind": "event", "event_type": "order"}, "steps": TASKS, **extra}


def _event(session, person_id, kind, when):  # type: ignore[no-untyped-def]
    append_events(
        session=session,
        raw_items=[{"type": kind, "person_id": person_id, "occurred_at": when.isoformat()}],
        actor_id=None,
    )
    session.commit()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"policy": "never"}, 1),
        ({"policy": "after_exit"}, 1),  # the first is still active at the second order
        ({"policy": "always"}, 3),
        ({"policy": "always", "cooldown_days": 2}, 2),
    ],
)
def test_re_entry_policies(session, policy, expected):
    at(session, T0)
    workflow_id = workflow(session, _on_order(re_entry=policy))
    ada = person(session, "ada@example.org")
    for day in (0, 1, 3):
        at(session, T0 + timedelta(days=day))
        order(session, ada, T0 + timedelta(days=day))
    assert len(enrolments(session, workflow_id)) == expected


def test_after_exit_enrols_again_once_the_first_ended(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    order(session, ada, T0)
    at(session, T0 + timedelta(days=2))
    run(session_factory, settings)  # wait, then the task: completed
    order(session, ada, T0 + timedelta(days=2))
    states = [e.state for e in enrolments(session, workflow_id)]
    assert states == ["completed", "active"]


def test_the_control_group_share_is_drawn_deterministically(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(
        session,
        {"trigger": {"kind": "manual"}, "holdout_percent": 20, "steps": TASKS},
    )
    session.add_all(Person(first_name=f"P{i}", last_name="X") for i in range(2000))
    session.flush()
    people = list(session.scalars(select(Person.id).order_by(Person.id)))
    [version] = active_versions(session)
    enrol(session, version, [Candidate(p, "manual:all") for p in people], now=T0)
    session.commit()
    rows = enrolments(session, workflow_id)
    held = [e for e in rows if e.holdout]
    assert 0.17 < len(held) / len(rows) < 0.23
    # The same draw from the same inputs: a replay holds out the same people.
    assert all(
        in_holdout(workflow_id, e.person_id, e.trigger_event_id, 20) == e.holdout for e in rows
    )
    assert {e.current_step for e in held} == {HOLDOUT_STEP}
    # Their only row waits as long as the longest path (one day here), running nothing.
    at(session, T0 + timedelta(hours=12))
    run(session_factory, settings)
    tasks_for = set(session.scalars(select(Task.person_id)))
    assert not tasks_for & {e.person_id for e in held}
    at(session, T0 + timedelta(days=1, minutes=1))
    run(session_factory, settings)
    rows = enrolments(session, workflow_id)
    assert {e.state for e in rows} == {"completed"}
    assert len(set(session.scalars(select(Task.person_id)))) == len(rows) - len(held)
    assert {e.end_reason for e in rows if e.holdout} == {
        "control group: watched as long as the workflow's longest path"
    }


def test_people_finish_under_the_version_they_entered(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    order(session, ada, T0)
    changed = _on_order()
    changed["steps"] = [
        {"id": "wait", "kind": "wait", "duration": {"days": 1}},
        {"id": "tag", "kind": "add_tag", "tag": "followed-up"},
    ]
    actions.update_draft(session, actor=None, workflow_id=workflow_id, definition=changed)
    version = actions.publish(session, actor=None, workflow_id=workflow_id)
    assert version.number == 2
    order(session, bob, T0)
    at(session, T0 + timedelta(days=1, minutes=1))
    run(session_factory, settings)
    first, second = enrolments(session, workflow_id)
    assert [s[0] for s in steps_of(session, first.id)] == ["wait", "call"]
    assert [s[0] for s in steps_of(session, second.id)] == ["wait", "tag"]
    session.expire_all()
    assert [t.name for t in session.get(Person, bob).tags] == ["followed-up"]
    assert [t.title for t in session.scalars(select(Task))] == ["Call them"]


def test_pause_stops_entries_and_steps_and_resume_goes_on(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    order(session, ada, T0)
    actions.pause(session, actor=None, workflow_id=workflow_id)
    order(session, bob, T0)
    at(session, T0 + timedelta(days=2))
    assert run(session_factory, settings).ran == 0
    assert [e.person_id for e in enrolments(session, workflow_id)] == [ada]
    actions.resume(session, actor=None, workflow_id=workflow_id)
    assert run(session_factory, settings).ran == 2
    [enrolment] = enrolments(session, workflow_id)
    assert enrolment.state == "completed"


def test_archive_cancels_pending_steps(session):
    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    order(session, ada, T0)
    actions.archive(session, actor=None, workflow_id=workflow_id)
    [enrolment] = enrolments(session, workflow_id)
    assert (enrolment.state, enrolment.end_reason) == ("cancelled", "the workflow was archived")
    assert steps_of(session, enrolment.id) == [("wait", "cancelled", "the workflow was archived")]


def test_wait_for_event_routes_on_the_event_or_the_timeout(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(
        session,
        {
            "trigger": {"kind": "event", "event_type": "signup"},
            "steps": [
                {
                    "id": "await",
                    "kind": "wait_for_event",
                    "event_type": "order",
                    "timeout": {"days": 3},
                    "on_timeout": "nudge",
                },
                {"id": "thank", "kind": "add_tag", "tag": "ordered", "next": "end"},
                {"id": "nudge", "kind": "add_tag", "tag": "nudged"},
                {"id": "end", "kind": "exit"},
            ],
        },
    )
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    _event(session, ada, "signup", T0)
    _event(session, bob, "signup", T0)
    at(session, T0 + timedelta(days=1))
    order(session, ada, T0 + timedelta(days=1))
    at(session, T0 + timedelta(days=3, minutes=1))
    run(session_factory, settings)
    first, second = enrolments(session, workflow_id)
    assert [s[:2] for s in steps_of(session, first.id)] == [
        ("await", "done"),
        ("thank", "done"),
        ("end", "done"),
    ]
    assert steps_of(session, first.id)[0][2] == "the event came"
    assert [s[:3] for s in steps_of(session, second.id)][:2] == [
        ("await", "done", "timed out"),
        ("nudge", "done", "tagged nudged"),
    ]
    assert (first.state, second.state) == ("exited", "exited")


def test_branch_and_split(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(
        session,
        {
            "trigger": {"kind": "manual"},
            "steps": [
                {
                    "id": "big",
                    "kind": "branch",
                    "condition": "first_name = 'Ada'",
                    "if_false": "coin",
                },
                {"id": "vip", "kind": "add_tag", "tag": "vip", "next": "done"},
                {"id": "coin", "kind": "split", "percent_a": 50, "b": "done"},
                {"id": "lucky", "kind": "add_tag", "tag": "lucky"},
                {"id": "done", "kind": "exit"},
            ],
        },
    )
    ada = person(session, "ada@example.org")
    others = [person(session, f"p{i}@example.org", first_name=f"P{i}") for i in range(40)]
    actions.enrol_person(session, actor=None, workflow_id=workflow_id, person_id=ada)
    for other in others:
        actions.enrol_person(session, actor=None, workflow_id=workflow_id, person_id=other)
    run(session_factory, settings)
    session.expire_all()
    assert [t.name for t in session.get(Person, ada).tags] == ["vip"]
    lucky = [p for p in others if [t.name for t in session.get(Person, p).tags] == ["lucky"]]
    assert 8 < len(lucky) < 32  # about half, drawn per enrolment
    assert {e.state for e in enrolments(session, workflow_id)} == {"exited"}


def test_a_field_change_enrols_through_the_customers_seam(session):
    at(session, T0)
    workflow_id = workflow(
        session,
        {
            "trigger": {"kind": "field_changed", "field": "job_title", "to_value": "CTO"},
            "steps": TASKS,
        },
    )
    ada = person(session, "ada@example.org")
    customer_people.update_person(
        session=session,
        person_id=ada,
        data=PersonUpdate(job_title="Engineer"),
        actor=None,
        default_region="US",
    )
    assert enrolments(session, workflow_id) == []
    customer_people.update_person(
        session=session,
        person_id=ada,
        data=PersonUpdate(job_title="CTO"),
        actor=None,
        default_region="US",
    )
    [enrolment] = enrolments(session, workflow_id)
    assert enrolment.person_id == ada and enrolment.entry_key.startswith("field:job_title@")


def test_date_attribute_and_schedule_triggers(session):
    at(session, T0)
    renewal = workflow(
        session,
        {
            "trigger": {"kind": "date_attribute", "attribute": "renewal", "offset_days": -7},
            "steps": TASKS,
        },
        name="Renewal reminder",
    )
    weekly = workflow(
        session,
        {
            "trigger": {"kind": "schedule", "cron": "0 8 * * 1"},
            "conditions": "first_name = 'Bob'",
            "steps": TASKS,
        },
        name="Weekly",
    )
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    session.get(Person, ada).attributes = {"renewal": (T0 + timedelta(days=7)).date().isoformat()}
    session.commit()
    assert fire_dates(session) == 1
    assert fire_dates(session) == 0  # once a business day
    assert fire_schedules(session) == 0  # the first tick sets the starting point
    at(session, T0 + timedelta(days=7))  # past Monday 08:00
    assert fire_schedules(session) == 1
    assert fire_schedules(session) == 0
    session.commit()
    assert [e.person_id for e in enrolments(session, renewal)] == [ada]
    [weekly_entry] = enrolments(session, weekly)
    assert weekly_entry.person_id == bob
    assert weekly_entry.entry_key == "schedule:2026-03-09T08:00:00+00:00"


def test_publish_names_each_problem_by_its_step_and_field(session):
    created = actions.create_workflow(
        session,
        actor=None,
        name="Broken",
        definition={
            "trigger": {"kind": "schedule", "cron": "every day"},
            "conditions": "no_such_field = 1",
            "steps": [
                {"id": "mail", "kind": "send_email", "template_id": 999},
                {"id": "list", "kind": "add_to_list", "segment_id": 999},
                {"id": "again", "kind": "enrol", "workflow_id": 999},
            ],
        },
    )
    with pytest.raises(DefinitionInvalid) as caught:
        actions.publish(session, actor=None, workflow_id=created.id)
    fields = [p.field for p in caught.value.problems]
    assert fields == [
        "trigger.cron",
        "conditions",
        "steps.mail.template_id",
        "steps.list.segment_id",
        "steps.again.workflow_id",
    ]


def test_a_bad_shape_is_refused_at_save_naming_the_step(session):
    with pytest.raises(DefinitionInvalid) as caught:
        actions.create_workflow(
            session,
            actor=None,
            name="Bad",
            definition={
                "trigger": {"kind": "manual"},
                "steps": [{"id": "w", "kind": "wait", "duration": {"days": -1}}],
            },
        )
    assert caught.value.problems[0].field == "steps.w.duration.days"


def test_step_rows_have_unique_keys(session, session_factory, settings):
    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    order(session, ada, T0)
    at(session, T0 + timedelta(days=2))
    run(session_factory, settings)
    [enrolment] = enrolments(session, workflow_id)
    keys = list(
        session.scalars(
            select(EnrolmentStep.idempotency_key).where(EnrolmentStep.enrolment_id == enrolment.id)
        )
    )
    assert keys == [f"{enrolment.id}:wait:1", f"{enrolment.id}:call:1"]


def test_the_sql_draw_at_enrolment_is_the_python_draw(session):
    """Events enrol in SQL; the control group drawn there is in_holdout's."""
    at(session, T0)
    workflow_id = workflow(session, _on_order(holdout_percent=30))
    session.add_all(Person(first_name=f"P{i}", last_name="X") for i in range(600))
    session.flush()
    people = list(session.scalars(select(Person.id).order_by(Person.id)))
    for start in (0, 300):  # two appends (an API batch holds at most 500)
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "person_id": p,
                    "occurred_at": T0.isoformat(),
                    "amount_minor": 100,
                    "currency": "USD",
                }
                for p in people[start : start + 300]
            ],
            actor_id=None,
        )
        session.commit()
    rows = enrolments(session, workflow_id)
    assert len(rows) == 600
    assert all(e.entry_key == f"event:{e.trigger_event_id}" for e in rows)
    assert all(
        in_holdout(workflow_id, e.person_id, e.trigger_event_id, 30) == e.holdout for e in rows
    )
    assert 0.25 < sum(e.holdout for e in rows) / 600 < 0.35
    pending = dict(
        session.execute(
            select(EnrolmentStep.enrolment_id, EnrolmentStep.step_id).where(
                EnrolmentStep.state == "pending"
            )
        ).all()
    )
    assert all(pending[e.id] == (HOLDOUT_STEP if e.holdout else "wait") for e in rows)
    assert all(e.current_step == pending[e.id] for e in rows)


def test_tasks_go_to_the_owner_unless_read_only(session, session_factory, settings):
    from tenure.identity.actions import create_user

    at(session, T0)
    workflow_id = workflow(
        session, {"trigger": {"kind": "manual"}, "steps": [TASKS[1]]}, name="Calls"
    )
    seller = create_user(session=session, email="s@example.com", role="sales", password="x" * 12)
    reader = create_user(session=session, email="a@example.com", role="analyst", password="x" * 12)
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    session.get(Person, ada).owner_id = seller.id
    session.get(Person, bob).owner_id = reader.id
    session.commit()
    for who in (ada, bob):
        actions.enrol_person(session, actor=None, workflow_id=workflow_id, person_id=who)
    run(session_factory, settings)
    tasks = {t.person_id: t.assignee_id for t in session.scalars(select(Task))}
    assert tasks == {ada: seller.id, bob: None}
    outcomes = [steps_of(session, e.id)[0][2] for e in enrolments(session, workflow_id)]
    assert outcomes[0].endswith(f"for user {seller.id}")
    assert outcomes[1].endswith("for no one (no owner who can take tasks)")


def _scores(session, values):  # type: ignore[no-untyped-def]
    from tenure.scores.models import PersonScore
    from tests.score_refreshes import refresh_id

    session.query(PersonScore).delete()
    refresh = refresh_id(session, as_of=T0, version="t")
    for person_id, churn in values.items():
        session.add(
            PersonScore(
                person_id=person_id,
                refresh_id=refresh,
                purchase_days=1,
                frequency=0,
                recency_days=0,
                age_days=1,
                monetary_minor=0,
                revenue_minor=0,
                historical_clv_minor=0,
                r_score=1,
                f_score=1,
                m_score=1,
                rfm_segment="New",
                churn_probability=churn,
            )
        )
    session.commit()


def test_a_score_crossing_enrols_who_crossed_since_the_last_refresh(session):
    from tenure.automation.triggers import score_crossings

    at(session, T0)
    workflow_id = workflow(
        session,
        {
            "trigger": {"kind": "score_crossed", "score": "churn_probability", "threshold": 0.6},
            "steps": TASKS,
        },
        name="Save them",
    )
    ada = person(session, "ada@example.org")
    bob = person(session, "bob@example.org", first_name="Bob")
    cy = person(session, "cy@example.org", first_name="Cy")
    _scores(session, {ada: 0.7, bob: 0.2, cy: 0.1})
    assert score_crossings(session) == 0  # the first refresh only sets who is past it
    _scores(session, {ada: 0.8, bob: 0.65, cy: 0.1})
    assert score_crossings(session) == 1  # Bob crossed; Ada was already past
    _scores(session, {ada: 0.8, bob: 0.3, cy: 0.9})
    assert score_crossings(session) == 1  # Cy crossed; Bob went back under
    session.commit()
    assert [e.person_id for e in enrolments(session, workflow_id)] == [bob, cy]


def test_withdrawing_consent_by_an_edit_exits_at_once(session):
    from tenure.customers.schemas import ConsentIn

    at(session, T0)
    workflow_id = workflow(session, _on_order())
    ada = person(session, "ada@example.org")
    order(session, ada, T0)
    customer_people.record_consent(
        session=session,
        person_id=ada,
        consent=ConsentIn(
            channel="email", purpose="marketing", status="withdrawn", source="phone call"
        ),
        actor=None,
    )
    [enrolment] = enrolments(session, workflow_id)
    assert (enrolment.state, enrolment.end_reason) == (
        "exited",
        "exit: unsubscribed (email marketing consent withdrawn)",
    )
    assert steps_of(session, enrolment.id)[0][1] == "cancelled"


def test_wait_until_time_is_in_the_persons_zone_and_the_longest_path():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from tenure.automation.definition import Definition
    from tenure.automation.timing import holdout_window, longest_path, next_time_of_day

    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 21:00 in Paris, 15:00 in New York
    assert next_time_of_day(now, "09:00", ZoneInfo("Europe/Paris")) == datetime(
        2026, 3, 3, 8, 0, tzinfo=UTC
    )
    assert next_time_of_day(now, "17:30", ZoneInfo("America/New_York")) == datetime(
        2026, 3, 2, 22, 30, tzinfo=UTC
    )
    definition = Definition.model_validate(
        {
            "trigger": {"kind": "manual"},
            "steps": [
                {"id": "b", "kind": "branch", "condition": "orders > 1", "if_true": "long"},
                {"id": "short", "kind": "wait", "duration": {"days": 1}, "next": "end"},
                {"id": "long", "kind": "wait", "duration": {"days": 10}},
                {
                    "id": "end",
                    "kind": "wait_for_event",
                    "event_type": "x",
                    "timeout": {"hours": 12},
                },
            ],
        }
    )
    assert longest_path(definition) == timedelta(days=10, hours=12)
    assert holdout_window(definition) == timedelta(days=10, hours=12)
    # An exit step ends the path: the wait written after it is never reached.
    exits_early = Definition.model_validate(
        {
            "trigger": {"kind": "manual"},
            "steps": [
                {"id": "first", "kind": "wait", "duration": {"days": 2}},
                {"id": "leave", "kind": "exit"},
                {"id": "unreached", "kind": "wait", "duration": {"days": 30}},
            ],
        }
    )
    assert longest_path(exits_early) == timedelta(days=2)
