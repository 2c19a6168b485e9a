"""When a step row is due, and how long a control-group enrolment is watched.

A step's row is due when the person reaches it, except the waits, whose row is due when
the wait is over: a wait's row pending means "waiting here", so the people at each step
are the pending rows. Times are on the workspace clock (business time): in a workspace
that replays history (the demo) a wait elapses when its clock moves, not with the wall
clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenure.automation.definition import (
    BranchStep,
    Definition,
    Duration,
    ExitStep,
    SplitStep,
    Step,
    WaitForEventStep,
    WaitStep,
    WaitUntilTimeStep,
)

#: The step id of a control-group enrolment's one row: due when the watch ends.
HOLDOUT_STEP = "(holdout)"
#: A control-group enrolment is watched at least this long (a workflow without waits).
MIN_HOLDOUT = timedelta(days=1)


def duration(value: Duration) -> timedelta:
    return timedelta(days=value.days, hours=value.hours, minutes=value.minutes)


def next_time_of_day(now: datetime, hhmm: str, zone: ZoneInfo) -> datetime:
    """The first ``HH:MM`` in ``zone`` strictly after ``now``."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(
            local.date() + timedelta(days=1), time(hour, minute), tzinfo=zone
        )
    return candidate.astimezone(now.tzinfo)


def due_at(step: Step, now: datetime, zone: ZoneInfo | None = None) -> datetime:
    """When the row of ``step``, reached at ``now``, is due (``zone``: the person's)."""
    if isinstance(step, WaitStep):
        return now + duration(step.duration)
    if isinstance(step, WaitForEventStep):
        return now + duration(step.timeout)
    if isinstance(step, WaitUntilTimeStep):
        return next_time_of_day(now, step.time, zone or ZoneInfo("UTC"))
    return now


def successors(definition: Definition, step: Step) -> set[str | None]:
    """Every step ``step`` may lead to (None: the end)."""
    if isinstance(step, ExitStep):
        return {None}
    default = step.next or definition.after(step.id)
    if isinstance(step, WaitForEventStep):
        return {step.on_event or default, step.on_timeout or default}
    if isinstance(step, BranchStep):
        return {step.if_true or default, step.if_false or default}
    if isinstance(step, SplitStep):
        return {step.a or default, step.b or default}
    return {default}


def _longest_wait(step: Step) -> timedelta:
    if isinstance(step, WaitStep):
        return duration(step.duration)
    if isinstance(step, WaitForEventStep):
        return duration(step.timeout)
    if isinstance(step, WaitUntilTimeStep):
        return timedelta(days=1)
    return timedelta(0)


def longest_path(definition: Definition) -> timedelta:
    """The longest time a person can spend in the workflow (jumps only go forward, so
    the steps in reverse order are a topological order)."""
    longest: dict[str | None, timedelta] = {None: timedelta(0)}
    for step in reversed(definition.steps):
        longest[step.id] = _longest_wait(step) + max(
            longest[target] for target in successors(definition, step)
        )
    return longest[definition.steps[0].id]


def holdout_window(definition: Definition) -> timedelta:
    """How long a control-group enrolment stays active waiting for the goal: as long as
    the longest way through the workflow, so both groups are watched for the same time."""
    return max(longest_path(definition), MIN_HOLDOUT)
