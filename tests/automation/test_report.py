"""The control-group report against numbers worked out by hand and from Newcombe (1998)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tenure.automation.definition import Definition
from tenure.automation.models import Enrolment, EnrolmentStep, Workflow, WorkflowVersion
from tenure.automation.report import (
    control_report,
    newcombe_difference,
    wilson,
    window_days,
)
from tenure.customers.models import Person
from tenure.errors import InvalidInput
from tenure.timeline.models import Event
from tenure.workspace.clock import fix_now
from tenure.workspace.queries import ensure_workspace

TODAY = datetime(2026, 3, 31, tzinfo=UTC)
ENTERED = TODAY - timedelta(days=20)
DEFINITION = {
    "trigger": {"kind": "manual"},
    "goal": {"event_type": "order"},
    "holdout_percent": 50,
    "steps": [
        {"id": "wait", "kind": "wait", "duration": {"days": 3}},
        {"id": "mail", "kind": "send_email", "template_id": 1},
    ],
}


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Table II, method 10 (hybrid score).
        ((56, 70, 48, 80), (0.2000, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6000, 0.1705, 0.8090)),
        ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ],
)
def test_newcombe_matches_the_published_intervals(counts, expected) -> None:
    got = newcombe_difference(*counts)
    assert [round(value, 4) for value in got] == list(expected)


def test_wilson_by_hand() -> None:
    # 4 of 10, z = 1.96: centre (4 + 1.9208) / 13.8416, half 1.96 * sqrt(10) / 13.8416
    # * sqrt(0.24 + 0.09604).
    centre = 5.9208 / 13.8416
    half = 1.96 * math.sqrt(10) / 13.8416 * math.sqrt(0.24 + 0.09604)
    lower, upper = wilson(4, 10, 1.96)
    assert lower == pytest.approx(centre - half) and upper == pytest.approx(centre + half)
    assert round(lower, 4) == 0.1682 and round(upper, 4) == 0.6873


def test_window_is_the_longest_way_through() -> None:
    definition = Definition.model_validate(
        {
            "trigger": {"kind": "manual"},
            "steps": [
                {"id": "b", "kind": "branch", "condition": "x = 1", "if_false": "short"},
                {"id": "long", "kind": "wait", "duration": {"days": 10, "hours": 1}},
                {"id": "x", "kind": "exit", "next": "end"},
                {"id": "short", "kind": "wait", "duration": {"days": 2}},
                {"id": "end", "kind": "add_tag", "tag": "done"},
            ],
        }
    )
    assert window_days(definition) == 11  # 10 days 1 hour, rounded up
    no_wait = Definition.model_validate(
        {"trigger": {"kind": "manual"}, "steps": [{"id": "x", "kind": "exit"}]}
    )
    assert window_days(no_wait) == 30


def _enrol(
    session: Session,
    workflow: Workflow,
    version: WorkflowVersion,
    holdout: bool,
    order_after: timedelta | None,
    n: int,
) -> list[int]:
    ids = []
    for _ in range(n):
        person = Person(first_name="P", last_name=str(len(ids)))
        session.add(person)
        session.flush()
        enrolment = Enrolment(
            workflow_id=workflow.id,
            version_id=version.id,
            person_id=person.id,
            entry_key=f"manual:{person.id}",
            holdout=holdout,
            entered_at=ENTERED,
            state="active",
            current_step=None if holdout else "mail",
        )
        session.add(enrolment)
        if order_after is not None:
            session.add(
                Event(
                    person_id=person.id,
                    type="order",
                    source="test",
                    occurred_at=ENTERED + order_after,
                    payload={},
                )
            )
        session.flush()
        ids.append(enrolment.id)
    return ids


@pytest.fixture
def workflow(session: Session) -> Workflow:
    ensure_workspace(session)
    fix_now(session, TODAY)
    workflow = Workflow(name="Win back", status="active", draft=DEFINITION)
    session.add(workflow)
    session.flush()
    version = WorkflowVersion(workflow_id=workflow.id, number=1, definition=DEFINITION)
    session.add(version)
    session.flush()
    workflow.published_version_id = version.id
    # Enrolled: 4 order within the 3-day window, 1 after it, 1 before entering, 4 never.
    converted = _enrol(session, workflow, version, False, timedelta(days=2), 4)
    late = _enrol(session, workflow, version, False, timedelta(days=5), 1)
    before = _enrol(session, workflow, version, False, timedelta(days=-1), 1)
    never = _enrol(session, workflow, version, False, None, 4)
    # Holdout: 1 of 10 converts.
    _enrol(session, workflow, version, True, timedelta(hours=12), 1)
    _enrol(session, workflow, version, True, None, 9)
    for enrolment_id in converted + late + before + never:
        session.add(
            EnrolmentStep(
                enrolment_id=enrolment_id,
                step_id="wait",
                state="done",
                due_at=ENTERED,
                idempotency_key=f"{enrolment_id}:wait:1",
            )
        )
    for index, enrolment_id in enumerate(converted + late + before + never):
        state = "done" if index < 6 else "skipped" if index < 8 else "pending"
        session.add(
            EnrolmentStep(
                enrolment_id=enrolment_id,
                step_id="mail",
                state=state,
                due_at=ENTERED,
                idempotency_key=f"{enrolment_id}:mail:1",
            )
        )
    session.flush()
    return workflow


def test_conversion_enrolled_vs_holdout(session: Session, workflow: Workflow) -> None:
    report = control_report(session, workflow.id)
    assert report["window_days"] == 3 and report["goal"] == "order"
    assert report["enrolled"] == {"people": 10, "converted": 4, "rate": 0.4, "open": 0}
    assert report["holdout"] == {"people": 10, "converted": 1, "rate": 0.1, "open": 0}
    difference = report["difference"]
    # 0.4 - 0.1, Wilson 4/10 (0.1682, 0.6873) and 1/10 (0.0179, 0.4042):
    # lower 0.3 - sqrt(0.2318^2 + 0.3042^2), upper 0.3 + sqrt(0.2873^2 + 0.0821^2).
    assert difference["value"] == pytest.approx(0.3)
    assert round(difference["lower"], 3) == -0.082
    assert round(difference["upper"], 3) == 0.599
    assert difference["significant"] is False


def test_a_longer_window_counts_the_late_order(session, workflow) -> None:
    report = control_report(session, workflow.id, window=10)
    assert report["enrolled"]["converted"] == 5
    assert report["enrolled"]["open"] == 0
    wide = control_report(session, workflow.id, window=30)
    # Entered 20 days ago: still inside a 30-day window, so not measured yet.
    assert wide["enrolled"] == {"people": 0, "converted": 0, "rate": None, "open": 10}
    assert wide["holdout"]["open"] == 10 and wide["difference"] is None


def test_funnel_per_step(session, workflow) -> None:
    funnel = {row["step_id"]: row for row in control_report(session, workflow.id)["funnel"]}
    assert list(funnel) == ["wait", "mail"]
    assert funnel["wait"]["done"] == 10 and funnel["wait"]["at_step"] == 0
    assert (funnel["mail"]["done"], funnel["mail"]["skipped"], funnel["mail"]["pending"]) == (
        6,
        2,
        2,
    )
    assert funnel["mail"]["at_step"] == 10  # every enrolled one points at it (held out: not)


def test_bad_window_names_the_field(session, workflow) -> None:
    with pytest.raises(InvalidInput) as error:
        control_report(session, workflow.id, window=0)
    assert error.value.field == "window_days"
