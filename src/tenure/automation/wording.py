"""A workflow told in words: its trigger, each step ("Wait 3 days", "Send 'Win-back'
(marketing)", "If clv > 500 go to 5 else 7") and where each step leads, by number.

The builder, the person card and the report all speak of steps this way, so a step reads
the same everywhere. Names of templates, segments and workflows are looked up once per
definition (:func:`names_for`), not once per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.automation.definition import (
    BranchStep,
    CallWebhookStep,
    CreateTaskStep,
    DateAttributeTrigger,
    Definition,
    Duration,
    EnrolStep,
    EventTrigger,
    ExitStep,
    FieldChangedTrigger,
    ListStep,
    ManualTrigger,
    ScheduleTrigger,
    ScoreCrossedTrigger,
    SegmentTrigger,
    SendEmailStep,
    SetFieldStep,
    SetStageStep,
    SplitStep,
    StageChangedTrigger,
    Step,
    TagStep,
    Trigger,
    WaitForEventStep,
    WaitStep,
    WaitUntilTimeStep,
)
from tenure.automation.models import Workflow
from tenure.lifecycle.models import LifecycleStage
from tenure.messaging.templating.models import MessageTemplate
from tenure.segments.models import Segment


@dataclass(frozen=True)
class Names:
    """Display names of what a definition refers to by id (missing ids say so)."""

    templates: dict[int, str] = field(default_factory=dict)
    segments: dict[int, str] = field(default_factory=dict)
    workflows: dict[int, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    template_purposes: dict[int, str] = field(default_factory=dict)

    def stage(self, key: str) -> str:
        return self.stages.get(key, key)

    def template(self, template_id: int) -> str:
        return self.templates.get(template_id, f"template #{template_id} (missing)")

    def segment(self, segment_id: int) -> str:
        return self.segments.get(segment_id, f"segment #{segment_id} (missing)")

    def workflow(self, workflow_id: int) -> str:
        return self.workflows.get(workflow_id, f"workflow #{workflow_id} (missing)")


def names_for(session: Session, definition: Definition | None) -> Names:
    """The names a definition's steps and trigger refer to, in three small queries."""
    if definition is None:
        return Names()
    template_ids: set[int] = set()
    segment_ids: set[int] = set()
    workflow_ids: set[int] = set()
    if isinstance(definition.trigger, SegmentTrigger):
        segment_ids.add(definition.trigger.segment_id)
    for step in definition.steps:
        if isinstance(step, SendEmailStep):
            template_ids.add(step.template_id)
        elif isinstance(step, ListStep):
            segment_ids.add(step.segment_id)
        elif isinstance(step, EnrolStep):
            workflow_ids.add(step.workflow_id)
    purposes: dict[int, str] = {}
    if template_ids:
        rows = session.execute(
            select(MessageTemplate.id, MessageTemplate.purpose).where(
                MessageTemplate.id.in_(template_ids)
            )
        )
        purposes = {template_id: purpose for template_id, purpose in rows}
    return Names(
        template_purposes=purposes,
        templates=_names(session, MessageTemplate, template_ids),
        segments=_names(session, Segment, segment_ids),
        workflows=_names(session, Workflow, workflow_ids),
        stages={
            key: name
            for key, name in session.execute(select(LifecycleStage.key, LifecycleStage.name))
        },
    )


def _stage_names(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(select(LifecycleStage.key, LifecycleStage.name))
    return [(key, name) for key, name in rows]


def _names(session: Session, model: type, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))  # type: ignore[attr-defined]
    return {row_id: name for row_id, name in rows}


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration(value: Duration) -> str:
    parts = [
        plural(amount, unit)
        for amount, unit in ((value.days, "day"), (value.hours, "hour"), (value.minutes, "minute"))
        if amount
    ]
    return " ".join(parts)


def trigger(value: Trigger, names: Names) -> str:
    if isinstance(value, EventTrigger):
        article = "an" if value.event_type[:1].lower() in "aeiou" else "a"
        return f"When {article} {value.event_type} event happens"
    if isinstance(value, StageChangedTrigger):
        source = f" from {names.stage(value.from_stage)}" if value.from_stage else ""
        target = f" to {names.stage(value.to_stage)}" if value.to_stage else ""
        return f"When the stage changes{source}{target}"
    if isinstance(value, SegmentTrigger):
        verb = "enters" if value.kind == "segment_entered" else "leaves"
        return f"When a person {verb} the segment '{names.segment(value.segment_id)}'"
    if isinstance(value, FieldChangedTrigger):
        to = f" to {value.to_value!r}" if value.to_value is not None else ""
        return f"When {value.field} changes{to}"
    if isinstance(value, ScoreCrossedTrigger):
        return f"When {value.score} goes {value.direction} {value.threshold:g}"
    if isinstance(value, DateAttributeTrigger):
        if value.offset_days == 0:
            when = "On"
        else:
            side = "before" if value.offset_days < 0 else "after"
            when = f"{plural(abs(value.offset_days), 'day')} {side}"
        yearly = " (every year)" if value.yearly else ""
        return f"{when} the date in {value.attribute}{yearly}"
    if isinstance(value, ScheduleTrigger):
        return f"On the schedule {value.cron} (workspace time)"
    assert isinstance(value, ManualTrigger)
    return "Only when enrolled by hand (a person or a segment)"


def step_text(step: Step, names: Names, number: dict[str, int]) -> str:
    """One step in words; ``number`` maps step ids to their 1-based place in the list."""

    def to(step_id: str | None) -> str:
        return f"step {number[step_id]}" if step_id is not None else "the next step"

    if isinstance(step, WaitStep):
        return f"Wait {duration(step.duration)}"
    if isinstance(step, WaitUntilTimeStep):
        return f"Wait until {step.time} in the person's time zone"
    if isinstance(step, WaitForEventStep):
        return (
            f"Wait up to {duration(step.timeout)} for a {step.event_type} event: "
            f"if it happens go to {to(step.on_event)}, else {to(step.on_timeout)}"
        )
    if isinstance(step, BranchStep):
        return f"If {step.condition} go to {to(step.if_true)} else {to(step.if_false)}"
    if isinstance(step, SplitStep):
        return f"Split at random: {step.percent_a} % to {to(step.a)}, the rest to {to(step.b)}"
    if isinstance(step, SendEmailStep):
        # Marketing when the step or its template says so, as the engine sends it.
        purposes = (step.purpose, names.template_purposes.get(step.template_id))
        purpose = "marketing" if "marketing" in purposes else "transactional"
        return f"Send '{names.template(step.template_id)}' ({purpose})"
    if isinstance(step, CreateTaskStep):
        due = "today" if step.due_in_days == 0 else f"in {plural(step.due_in_days, 'day')}"
        return f"Create a task for the owner: '{step.title}', due {due}"
    if isinstance(step, SetFieldStep):
        return f"Set {step.field} to {step.value!r}"
    if isinstance(step, TagStep):
        verb = "Add the tag" if step.kind == "add_tag" else "Remove the tag"
        return f"{verb} '{step.tag}'"
    if isinstance(step, SetStageStep):
        return f"Set the stage to {names.stage(step.stage)}"
    if isinstance(step, ListStep):
        verb = "Add to" if step.kind == "add_to_list" else "Remove from"
        return f"{verb} the list '{names.segment(step.segment_id)}'"
    if isinstance(step, CallWebhookStep):
        return f"Call the webhook {step.url}"
    if isinstance(step, EnrolStep):
        return f"Enrol in the workflow '{names.workflow(step.workflow_id)}'"
    assert isinstance(step, ExitStep)
    return "Exit the workflow"


def numbered_steps(definition: Definition, names: Names) -> list[dict[str, object]]:
    """The steps as the builder lists them: number, id, kind, words and the jump after."""
    number = {step.id: index + 1 for index, step in enumerate(definition.steps)}
    rows = []
    for step in definition.steps:
        text = step_text(step, names, number)
        branching = isinstance(step, WaitForEventStep | BranchStep | SplitStep)
        if step.next is not None and not branching:
            text += f", then go to step {number[step.next]}"
        rows.append({"number": number[step.id], "id": step.id, "kind": step.kind, "text": text})
    return rows
