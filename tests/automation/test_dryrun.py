"""The dry run: who would enter, sends per business day, consent and fatigue stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.automation.definition import Definition
from tenure.automation.dryrun import dry_run
from tenure.config import Settings
from tenure.customers.models import ConsentRecord, Person
from tenure.errors import InvalidInput
from tenure.messaging.templating.models import MessageTemplate
from tenure.segments.syntax import FilterError
from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now
from tenure.workspace.queries import ensure_workspace

TODAY = datetime(2026, 3, 31, tzinfo=UTC)


def _person(session: Session, name: str, *, marketing: str | None = "granted", **attrs) -> int:
    first, last = name.split()
    person = Person(first_name=first, last_name=last, attributes=attrs)
    session.add(person)
    session.flush()
    if marketing is not None:
        session.add(
            ConsentRecord(
                person_id=person.id,
                channel="email",
                purpose="marketing",
                status=marketing,
                source="test",
                recorded_at=TODAY - timedelta(days=100),
            )
        )
    return person.id


def _event(session: Session, person_id: int, kind: str, at: datetime, **payload) -> None:
    session.add(
        Event(person_id=person_id, type=kind, occurred_at=at, source="test", payload=payload)
    )


@pytest.fixture
def shop(session: Session) -> dict[str, int]:
    ensure_workspace(session)
    fix_now(session, TODAY)
    template = MessageTemplate(name="Win-back", purpose="marketing")
    session.add(template)
    ada = _person(session, "Ada Lovelace", plan="pro")
    bob = _person(session, "Bob Brown", marketing="withdrawn")
    cy = _person(session, "Cy Young", plan="pro")
    old = _person(session, "Old Timer")
    # Ada and Bob lapse 10 days ago, Cy 1 day ago (his email is due after today),
    # Old Timer 60 days ago (outside the 30-day window).
    for person_id, days_ago in ((ada, 10), (bob, 10), (cy, 1), (old, 60)):
        _event(
            session,
            person_id,
            "stage_changed",
            TODAY - timedelta(days=days_ago),
            **{"from": "active", "to": "lapsing"},
        )
    # A stage change to another stage is not the trigger.
    _event(session, ada, "stage_changed", TODAY - timedelta(days=5), **{"to": "active"})
    session.flush()
    return {"ada": ada, "bob": bob, "cy": cy, "old": old, "template": template.id}


def _definition(template_id: int, **extra) -> Definition:
    return Definition.model_validate(
        {
            "trigger": {"kind": "stage_changed", "to_stage": "lapsing"},
            "steps": [
                {"id": "wait", "kind": "wait", "duration": {"days": 3}},
                {"id": "mail", "kind": "send_email", "template_id": template_id},
            ],
            **extra,
        }
    )


def test_who_enters_and_when_the_emails_go(session: Session, settings: Settings, shop) -> None:
    result = dry_run(session, _definition(shop["template"]), settings, currency="USD")
    assert result.entries == 3 and result.people == 3
    assert sorted(p["name"] for p in result.sample) == ["Ada Lovelace", "Bob Brown", "Cy Young"]
    # Bob withdrew marketing consent: his email is stopped; Ada's goes 7 days ago, Cy's
    # in two days (after today).
    assert result.stopped_by_consent == 1
    assert result.messages_per_day == {date(2026, 3, 24): 1, date(2026, 4, 2): 1}
    body = result.as_dict()
    assert [d["after_today"] for d in body["messages_per_day"]] == [False, True]


def test_conditions_are_judged_on_today_s_data(session, settings, shop) -> None:
    definition = _definition(shop["template"], conditions='attribute.plan = "pro"')
    result = dry_run(session, definition, settings, currency="USD")
    assert {p["name"] for p in result.sample} == {"Ada Lovelace", "Cy Young"}
    assert result.messages == 2


def test_the_goal_ends_the_walk_before_the_send(session, settings, shop) -> None:
    _event(session, shop["ada"], "order", TODAY - timedelta(days=9))
    session.flush()
    definition = _definition(shop["template"], goal={"event_type": "order"})
    result = dry_run(session, definition, settings, currency="USD")
    assert result.goal_reached == 1
    assert result.messages == 1  # Cy only: Ada ordered, Bob has no consent


def test_fatigue_budget_stops_the_second_email(session, settings, shop) -> None:
    budget = settings.model_copy(update={"fatigue_max_marketing": 1, "fatigue_window_days": 7})
    definition = Definition.model_validate(
        {
            "trigger": {"kind": "stage_changed", "to_stage": "lapsing"},
            "steps": [
                {"id": "a", "kind": "send_email", "template_id": shop["template"]},
                {"id": "w", "kind": "wait", "duration": {"days": 2}},
                {"id": "b", "kind": "send_email", "template_id": shop["template"]},
                {"id": "w2", "kind": "wait", "duration": {"days": 8}},
                {"id": "c", "kind": "send_email", "template_id": shop["template"]},
            ],
        }
    )
    result = dry_run(session, definition, budget, currency="USD")
    # Ada and Cy: a sent, b stopped (one in the last 7 days), c sent (10 days on).
    assert result.messages == 4
    assert result.stopped_by_fatigue == 2
    assert result.stopped_by_consent == 3  # Bob, at each of the three sends


def test_branch_and_wait_for_event(session, settings, shop) -> None:
    _event(session, shop["ada"], "email_opened", TODAY - timedelta(days=8))
    session.flush()
    definition = Definition.model_validate(
        {
            "trigger": {"kind": "stage_changed", "to_stage": "lapsing"},
            "steps": [
                {
                    "id": "look",
                    "kind": "wait_for_event",
                    "event_type": "email_opened",
                    "timeout": {"days": 5},
                    "on_timeout": "task",
                },
                {
                    "id": "pro",
                    "kind": "branch",
                    "condition": 'attribute.plan = "pro"',
                    "if_false": "task",
                },
                {
                    "id": "mail",
                    "kind": "send_email",
                    "template_id": shop["template"],
                    "purpose": "transactional",
                    "next": "end",
                },
                {"id": "task", "kind": "create_task", "title": "Call them"},
                {"id": "end", "kind": "exit"},
            ],
        }
    )
    result = dry_run(session, definition, settings, currency="USD")
    # Ada opened within 5 days and is pro: the email (transactional: no marketing consent
    # needed). Bob and Cy did not open: a task each.
    assert result.messages == 1 and result.tasks == 2
    assert result.messages_per_day == {date(2026, 3, 23): 1}


def test_nothing_is_written(session, settings, shop) -> None:
    before = session.scalar(select(func.count()).select_from(Event))
    dry_run(session, _definition(shop["template"]), settings, currency="USD")
    assert session.scalar(select(func.count()).select_from(Event)) == before
    assert not session.new and not session.dirty


def test_bad_input_names_the_field(session, settings, shop) -> None:
    with pytest.raises(FilterError):
        dry_run(
            session,
            _definition(shop["template"], conditions="plan = = 3"),
            settings,
            currency="USD",
        )
    with pytest.raises(InvalidInput) as error:
        dry_run(session, _definition(shop["template"]), settings, currency="USD", days=0)
    assert error.value.field == "days"


def test_triggers_without_history_say_so(session, settings, shop) -> None:
    definition = _definition(shop["template"]).model_copy(
        update={
            "trigger": Definition.model_validate(
                {
                    "trigger": {"kind": "field_changed", "field": "job_title"},
                    "steps": [{"id": "x", "kind": "exit"}],
                }
            ).trigger
        }
    )
    result = dry_run(session, definition, settings, currency="USD")
    assert result.entries == 0 and "no history" in result.notes[0]
