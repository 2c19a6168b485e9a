"""Checks of a definition against the database, before a version is published.

``definition`` checks the shape (pydantic); here what needs the data: filters compile
(the segment compiler, so a condition names real fields and segments), templates exist
and are not archived, segments exist and list steps target static lists, workflows named
by ``enrol`` steps exist (and are not this one), stages exist, cron expressions parse.
Each problem names its place: ``trigger.cron``, ``conditions``,
``steps.<step id>.template_id``...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.automation.definition import (
    BranchStep,
    Definition,
    EnrolStep,
    ListStep,
    ScheduleTrigger,
    ScoreCrossedTrigger,
    SegmentTrigger,
    SendEmailStep,
    SetStageStep,
)
from tenure.automation.models import Workflow
from tenure.config import get_settings
from tenure.errors import InvalidInput, TenureError
from tenure.jobs.schedules import check_cron
from tenure.lifecycle.models import LifecycleStage
from tenure.messaging.templating.models import MessageTemplate
from tenure.segments.actions import compile_for
from tenure.segments.models import Segment, SegmentKind
from tenure.workspace import clock
from tenure.workspace.settings import currency


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DefinitionInvalid(InvalidInput):
    """A definition that does not parse or does not check (HTTP 422), with every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(first.field, first.message)
        self.problems = problems


def _place(loc: tuple[Any, ...], raw: Mapping[str, Any]) -> str:
    """A pydantic error location as a field path, a step named by its id."""
    parts: list[str] = ["definition"]
    steps = raw.get("steps") if isinstance(raw, Mapping) else None
    index = 0
    while index < len(loc):
        part = loc[index]
        if parts[-1] == "steps" and isinstance(part, int):
            step = steps[part] if isinstance(steps, list) and part < len(steps) else None
            step_id = step.get("id") if isinstance(step, Mapping) else None
            parts.append(str(step_id) if isinstance(step_id, str) and step_id else str(part))
            # Skip the discriminator tag pydantic adds after the index.
            if (
                index + 1 < len(loc)
                and isinstance(loc[index + 1], str)
                and isinstance(step, Mapping)
                and loc[index + 1] == step.get("kind")
            ):
                index += 1
        elif (
            parts[-1] == "trigger"
            and isinstance(part, str)
            and isinstance(raw, Mapping)
            and (isinstance(raw.get("trigger"), Mapping) and part == raw["trigger"].get("kind"))
        ):
            pass
        else:
            parts.append(str(part))
        index += 1
    return ".".join(parts[1:]) or "definition"


_NAMED_STEP = re.compile(r"^step (?:id )?'([A-Za-z0-9_-]+)'")


def _model_place(message: str) -> str:
    """The place of a whole-definition error: the step its message names."""
    named = _NAMED_STEP.match(message)
    return f"steps.{named.group(1)}" if named else "steps"


def parse_definition(raw: Any) -> Definition:
    """The definition, or DefinitionInvalid naming each bad field."""
    if not isinstance(raw, Mapping):
        raise DefinitionInvalid([Problem("definition", "must be a JSON object")])
    try:
        return Definition.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            message = str(item["msg"]).removeprefix("Value error, ")
            loc = tuple(item["loc"])
            place = _place(loc, raw) if loc else _model_place(message)
            problems.append(Problem(place, message))
        raise DefinitionInvalid(problems or [Problem("definition", str(error))]) from None


def _filter_problem(session: Session, text: str, field: str) -> Problem | None:
    try:
        compile_for(
            session,
            text,
            currency=currency(session, get_settings()),
            as_of=clock.now(session),
        )
    except TenureError as error:
        return Problem(field, str(getattr(error, "reason", error)))
    return None


def check_definition(
    session: Session, definition: Definition, *, workflow_id: int | None = None
) -> list[Problem]:
    """Every problem the database finds in ``definition`` (empty: publishable)."""
    problems: list[Problem] = []

    def check_filter(text: str | None, field: str) -> None:
        if text:
            problem = _filter_problem(session, text, field)
            if problem:
                problems.append(problem)

    trigger = definition.trigger
    if isinstance(trigger, ScheduleTrigger):
        try:
            check_cron(trigger.cron, "trigger.cron")
        except InvalidInput as error:
            problems.append(Problem("trigger.cron", error.reason))
    if isinstance(trigger, SegmentTrigger) and session.get(Segment, trigger.segment_id) is None:
        problems.append(Problem("trigger.segment_id", f"there is no segment {trigger.segment_id}"))
    if isinstance(trigger, ScoreCrossedTrigger):
        operator = ">" if trigger.direction == "above" else "<"
        problem = _filter_problem(
            session, f"{trigger.score} {operator} {trigger.threshold}", "trigger.score"
        )
        if problem:
            problems.append(Problem("trigger.score", f"not a score field: {problem.message}"))
    check_filter(definition.conditions, "conditions")
    if definition.goal is not None:
        check_filter(definition.goal.condition, "goal.condition")
    check_filter(definition.exit_when.condition, "exit_when.condition")
    stages = set(session.scalars(select(LifecycleStage.key)))
    for step in definition.steps:
        place = f"steps.{step.id}"
        if isinstance(step, BranchStep):
            check_filter(step.condition, f"{place}.condition")
        elif isinstance(step, SendEmailStep):
            template = session.get(MessageTemplate, step.template_id)
            if template is None:
                problems.append(
                    Problem(f"{place}.template_id", f"there is no template {step.template_id}")
                )
            elif template.archived:
                problems.append(
                    Problem(f"{place}.template_id", f"template {template.name!r} is archived")
                )
        elif isinstance(step, ListStep):
            segment = session.get(Segment, step.segment_id)
            if segment is None:
                problems.append(
                    Problem(f"{place}.segment_id", f"there is no segment {step.segment_id}")
                )
            elif segment.kind != SegmentKind.static:
                problems.append(
                    Problem(
                        f"{place}.segment_id",
                        f"{segment.name!r} is a dynamic segment: only a static list takes "
                        "people by hand",
                    )
                )
        elif isinstance(step, EnrolStep):
            if step.workflow_id == workflow_id:
                problems.append(
                    Problem(f"{place}.workflow_id", "a workflow cannot enrol into itself")
                )
            elif session.get(Workflow, step.workflow_id) is None:
                problems.append(
                    Problem(f"{place}.workflow_id", f"there is no workflow {step.workflow_id}")
                )
        elif isinstance(step, SetStageStep) and stages and step.stage not in stages:
            problems.append(
                Problem(
                    f"{place}.stage",
                    f"there is no stage {step.stage!r}; stages: {', '.join(sorted(stages))}",
                )
            )
    return problems


def require_publishable(
    session: Session, raw: Any, *, workflow_id: int | None = None
) -> Definition:
    """Parse and check ``raw``; raise DefinitionInvalid with every problem."""
    definition = parse_definition(raw)
    problems = check_definition(session, definition, workflow_id=workflow_id)
    if problems:
        raise DefinitionInvalid(problems)
    return definition
