"""The control-group report: does the workflow move people to its goal, against the holdout?

Conversion is the share of enrolments with a goal event within the workflow's **window**
after they entered: ``occurred_at`` in ``(entered_at, entered_at + window]``. The window
is the longest way through the steps (the engine's ``timing.longest_path``: waits and
event timeouts along the longest path, the time a holdout enrolment is watched for),
rounded up to whole days, or
``DEFAULT_WINDOW_DAYS`` for a workflow that does not wait; the report takes another
window on request. Both arms are measured the same way from the event log, so the holdout
(who got no step) and the enrolled are compared on the same footing, whatever state the
engine left their enrolment in. Only enrolments whose window is over are measured (one
that entered yesterday cannot say yet whether it converts in time); those still inside
it are reported as ``open``.

The difference (enrolled minus holdout) has a 95 % confidence interval by Newcombe's
hybrid score method (method 10 of Newcombe 1998, "Interval estimation for the difference
between independent proportions"): each proportion's Wilson score interval, combined.
It behaves at 0 and 100 % and with small holdouts, where the Wald interval does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scipy.stats import norm
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from tenure.automation.definition import Definition
from tenure.automation.models import Enrolment, EnrolmentStep, StepState, Workflow, WorkflowVersion
from tenure.automation.timing import HOLDOUT_STEP, longest_path
from tenure.db import dialect as sql
from tenure.errors import InvalidInput, NotFound
from tenure.timeline.models import Event
from tenure.workspace import clock

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 3650
CONFIDENCE = 0.95


# --- statistics --------------------------------------------------------------------------


def wilson(successes: int, total: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    if total == 0:
        raise ValueError("no observations")
    p = successes / total
    denominator = total + z * z
    centre = (successes + z * z / 2) / denominator
    half = z * math.sqrt(total) / denominator * math.sqrt(p * (1 - p) + z * z / (4 * total))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``p1 - p2`` and its hybrid score interval (Newcombe 1998, method 10)."""
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, lower, upper


# --- the window --------------------------------------------------------------------------


def window_days(definition: Definition) -> int:
    """Whole days of the longest way through the steps (``DEFAULT_WINDOW_DAYS`` if 0):
    the engine's ``timing.longest_path``, the time it watches a holdout enrolment for."""
    total = longest_path(definition)
    if total <= timedelta(0):
        return DEFAULT_WINDOW_DAYS
    return math.ceil(total / timedelta(days=1))


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    enrolled: int
    converted: int
    open: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.enrolled if self.enrolled else None


def published_definition(session: Session, workflow: Workflow) -> Definition | None:
    if workflow.published_version_id is None:
        return None
    version = session.get(WorkflowVersion, workflow.published_version_id)
    return Definition.model_validate(version.definition) if version else None


def _workflow(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound("workflow", workflow_id)
    return workflow


def arms(session: Session, workflow_id: int, goal_type: str, days: int) -> dict[bool, Arm]:
    """Per arm (``True``: the holdout): enrolments whose window is over and how many of
    them converted in it, and how many are still inside their window (not counted: a
    window not yet over cannot say whether its goal comes)."""
    dialect = session.get_bind().dialect.name
    now = clock.now(session)
    converted = exists().where(
        Event.person_id == Enrolment.person_id,
        Event.type == goal_type,
        Event.occurred_at > Enrolment.entered_at,
        sql.days_between(dialect, Event.occurred_at, Enrolment.entered_at) <= days,
    )
    still_open = sql.days_between(dialect, sql.moment(dialect, now), Enrolment.entered_at) < days
    rows = session.execute(
        select(
            Enrolment.holdout,
            func.sum(case((still_open, 0), else_=1)),
            func.sum(case((still_open, 0), (converted, 1), else_=0)),
            func.sum(case((still_open, 1), else_=0)),
        )
        .where(Enrolment.workflow_id == workflow_id)
        .group_by(Enrolment.holdout)
    ).all()
    found = {bool(h): Arm(int(n), int(x or 0), int(o or 0)) for h, n, x, o in rows}
    return {group: found.get(group, Arm(0, 0, 0)) for group in (False, True)}


def funnel(session: Session, workflow_id: int, definition: Definition | None) -> list[dict]:
    """Per step (in the definition's order, then steps only older versions had): people
    at it now, and its visits by state. The holdout runs no step, so it is left out."""
    at_step = {
        str(step_id): count
        for step_id, count in session.execute(
            select(Enrolment.current_step, func.count())
            .where(
                Enrolment.workflow_id == workflow_id,
                Enrolment.state == "active",
                Enrolment.holdout.is_(False),
                Enrolment.current_step.is_not(None),
            )
            .group_by(Enrolment.current_step)
        )
    }
    visits: dict[str, dict[str, int]] = {}
    for step_id, state, count in session.execute(
        select(EnrolmentStep.step_id, EnrolmentStep.state, func.count())
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .where(
            Enrolment.workflow_id == workflow_id,
            Enrolment.holdout.is_(False),
            EnrolmentStep.step_id != HOLDOUT_STEP,
        )
        .group_by(EnrolmentStep.step_id, EnrolmentStep.state)
    ):
        visits.setdefault(step_id, {})[state] = count
    order = [step.id for step in definition.steps] if definition else []
    order += sorted((set(visits) | set(at_step)) - set(order))
    rows = []
    for step_id in order:
        states = visits.get(step_id, {})
        rows.append(
            {
                "step_id": step_id,
                "at_step": int(at_step.get(step_id, 0)),
                "reached": sum(states.values()),
                **{state.value: int(states.get(state.value, 0)) for state in StepState},
            }
        )
    return rows


def control_report(
    session: Session, workflow_id: int, *, window: int | None = None
) -> dict[str, Any]:
    """Conversion of the enrolled vs the holdout, the difference with its interval, and
    the per-step funnel."""
    workflow = _workflow(session, workflow_id)
    definition = published_definition(session, workflow)
    if window is not None and not 1 <= window <= MAX_WINDOW_DAYS:
        raise InvalidInput("window_days", f"must be between 1 and {MAX_WINDOW_DAYS}")
    report: dict[str, Any] = {
        "workflow_id": workflow.id,
        "name": workflow.name,
        "goal": None,
        "window_days": None,
        "enrolled": None,
        "holdout": None,
        "difference": None,
        "confidence": CONFIDENCE,
        "method": "Newcombe hybrid score interval (Wilson intervals combined)",
        "funnel": funnel(session, workflow.id, definition),
        "notes": [],
    }
    if definition is None:
        report["notes"].append("Not published yet: nobody has entered.")
        return report
    if definition.goal is None:
        report["notes"].append("The workflow has no goal: there is no conversion to measure.")
        return report
    days = window or window_days(definition)
    report["goal"] = definition.goal.event_type
    report["window_days"] = days
    if definition.goal.condition:
        report["notes"].append(
            "The goal's condition is judged by the engine when it runs; the report counts "
            "every goal event."
        )
    by_arm = arms(session, workflow.id, definition.goal.event_type, days)
    for key, arm in (("enrolled", by_arm[False]), ("holdout", by_arm[True])):
        report[key] = {
            "people": arm.enrolled,
            "converted": arm.converted,
            "rate": arm.rate,
            "open": arm.open,
        }
    treated, control = by_arm[False], by_arm[True]
    if treated.enrolled and control.enrolled:
        difference, lower, upper = newcombe_difference(
            treated.converted, treated.enrolled, control.converted, control.enrolled
        )
        report["difference"] = {
            "value": difference,
            "lower": lower,
            "upper": upper,
            "significant": lower > 0 or upper < 0,
        }
    elif not control.enrolled:
        report["notes"].append(
            "No holdout: set a holdout share to measure what the workflow adds."
            if not definition.holdout_percent
            else "Nobody in the holdout has reached the end of the window yet."
        )
    return report


def conversion_by_workflow(session: Session, workflows: list[Workflow]) -> dict[int, float | None]:
    """The enrolled arm's conversion for the list page (same measure as the report)."""
    rates: dict[int, float | None] = {}
    for workflow in workflows:
        definition = published_definition(session, workflow)
        if definition is None or definition.goal is None:
            rates[workflow.id] = None
            continue
        arm = arms(session, workflow.id, definition.goal.event_type, window_days(definition))
        rates[workflow.id] = arm[False].rate
    return rates
