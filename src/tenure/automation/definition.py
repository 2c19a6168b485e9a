"""The workflow definition: what a version stores (JSON) and the builder edits.

Checked here for shape only (pydantic): unique step ids, jumps that name a step further
down the list (so a workflow is a graph without cycles and always ends), sane numbers.
Whether a filter compiles, a template exists or a segment is a static list needs the
database: ``automation.checks`` does that before a version is published.

Steps run in list order; ``next`` jumps forward to a named step; branching steps name a
step for each way out. Running past the last step completes the enrolment.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StepId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Duration(_Strict):
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=10_000)
    minutes: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        if self.days == self.hours == self.minutes == 0:
            raise ValueError("a duration needs days, hours or minutes")
        return self


# --- triggers -------------------------------------------------------------------------


class EventTrigger(_Strict):
    kind: Literal["event"] = "event"
    event_type: str = Field(min_length=1, max_length=50)


class StageChangedTrigger(_Strict):
    kind: Literal["stage_changed"] = "stage_changed"
    from_stage: str | None = None  # any stage when None
    to_stage: str | None = None


class SegmentTrigger(_Strict):
    kind: Literal["segment_entered", "segment_exited"]
    segment_id: int


class FieldChangedTrigger(_Strict):
    """A person's field or attribute (``job_title``, ``attribute.plan``) changing to a value
    (any new value when ``to_value`` is None)."""

    kind: Literal["field_changed"] = "field_changed"
    field: str = Field(min_length=1, max_length=100)
    to_value: str | None = None


class ScoreCrossedTrigger(_Strict):
    kind: Literal["score_crossed"] = "score_crossed"
    score: str = Field(min_length=1, max_length=50)  # a score field of the filter language
    threshold: float
    direction: Literal["above", "below"] = "above"


class DateAttributeTrigger(_Strict):
    """A date attribute (renewal, birthday) plus ``offset_days`` (negative: before it);
    a birthday-like attribute recurs every year when ``yearly``."""

    kind: Literal["date_attribute"] = "date_attribute"
    attribute: str = Field(min_length=1, max_length=100)
    offset_days: int = Field(default=0, ge=-3650, le=3650)
    yearly: bool = False


class ScheduleTrigger(_Strict):
    """Everyone matching the conditions, on a cron schedule (workspace time zone)."""

    kind: Literal["schedule"] = "schedule"
    cron: str = Field(min_length=1, max_length=100)


class ManualTrigger(_Strict):
    """Only people or segments enrolled by hand (page, API, CLI)."""

    kind: Literal["manual"] = "manual"


Trigger = Annotated[
    EventTrigger
    | StageChangedTrigger
    | SegmentTrigger
    | FieldChangedTrigger
    | ScoreCrossedTrigger
    | DateAttributeTrigger
    | ScheduleTrigger
    | ManualTrigger,
    Field(discriminator="kind"),
]


# --- steps ------------------------------------------------------------------------------


class _Step(_Strict):
    id: StepId
    # Where to go after this step; the next step in the list when None.
    next: StepId | None = None


class WaitStep(_Step):
    kind: Literal["wait"] = "wait"
    duration: Duration


class WaitUntilTimeStep(_Step):
    """Until the next time of day ``HH:MM`` in the person's time zone."""

    kind: Literal["wait_until_time"] = "wait_until_time"
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class WaitForEventStep(_Step):
    kind: Literal["wait_for_event"] = "wait_for_event"
    event_type: str = Field(min_length=1, max_length=50)
    timeout: Duration
    on_event: StepId | None = None  # None: the next step in the list
    on_timeout: StepId | None = None


class BranchStep(_Step):
    """``condition`` in the segment filter language, for this person at this moment."""

    kind: Literal["branch"] = "branch"
    condition: str = Field(min_length=1, max_length=5000)
    if_true: StepId | None = None
    if_false: StepId | None = None


class SplitStep(_Step):
    """A random split: ``percent_a`` of people go to ``a``, the others to ``b``."""

    kind: Literal["split"] = "split"
    percent_a: int = Field(ge=1, le=99)
    a: StepId | None = None
    b: StepId | None = None


class SendEmailStep(_Step):
    kind: Literal["send_email"] = "send_email"
    template_id: int
    purpose: Literal["marketing", "transactional"] = "marketing"


class CreateTaskStep(_Step):
    """A task for the person's owner (unassigned when they have none)."""

    kind: Literal["create_task"] = "create_task"
    title: str = Field(min_length=1, max_length=300)
    due_in_days: int = Field(default=1, ge=0, le=365)


class SetFieldStep(_Step):
    kind: Literal["set_field"] = "set_field"
    field: str = Field(min_length=1, max_length=100)
    value: str | int | float | bool | None


class TagStep(_Step):
    kind: Literal["add_tag", "remove_tag"]
    tag: str = Field(min_length=1, max_length=100)


class SetStageStep(_Step):
    kind: Literal["set_stage"] = "set_stage"
    stage: str = Field(min_length=1, max_length=100)


class ListStep(_Step):
    kind: Literal["add_to_list", "remove_from_list"]
    segment_id: int


class CallWebhookStep(_Step):
    kind: Literal["call_webhook"] = "call_webhook"
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")


class EnrolStep(_Step):
    kind: Literal["enrol"] = "enrol"
    workflow_id: int


class ExitStep(_Step):
    kind: Literal["exit"] = "exit"


Step = Annotated[
    WaitStep
    | WaitUntilTimeStep
    | WaitForEventStep
    | BranchStep
    | SplitStep
    | SendEmailStep
    | CreateTaskStep
    | SetFieldStep
    | TagStep
    | SetStageStep
    | ListStep
    | CallWebhookStep
    | EnrolStep
    | ExitStep,
    Field(discriminator="kind"),
]


def targets(step: Step) -> list[str]:
    """The step ids a step may jump to (its explicit ways out)."""
    named: list[str | None] = [step.next]
    if isinstance(step, WaitForEventStep):
        named += [step.on_event, step.on_timeout]
    elif isinstance(step, BranchStep):
        named += [step.if_true, step.if_false]
    elif isinstance(step, SplitStep):
        named += [step.a, step.b]
    return [target for target in named if target is not None]


# --- the whole definition ---------------------------------------------------------------


class Goal(_Strict):
    """Reached when the person has an event of ``event_type`` after entering (and, when
    given, matches ``condition``): the enrolment ends, remaining steps cancelled."""

    event_type: str = Field(min_length=1, max_length=50)
    condition: str | None = Field(default=None, max_length=5000)


class ExitWhen(_Strict):
    unsubscribed: bool = True  # marketing email consent withdrawn
    churned: bool = False  # placed in a stage of the "churned" kind
    condition: str | None = Field(default=None, max_length=5000)


class ReEntry(_Strict):
    """``never``: once per person ever; ``after_exit``: again once the previous
    enrolment ended; ``always``: every trigger, at most once per ``cooldown_days``."""

    policy: Literal["never", "after_exit", "always"] = "after_exit"
    cooldown_days: int = Field(default=0, ge=0, le=3650)


class Definition(_Strict):
    trigger: Trigger
    conditions: str | None = Field(default=None, max_length=5000)
    re_entry: ReEntry = ReEntry()
    goal: Goal | None = None
    exit_when: ExitWhen = ExitWhen()
    holdout_percent: int = Field(default=0, ge=0, le=50)
    steps: list[Step] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _graph(self) -> Definition:
        position: dict[str, int] = {}
        for index, step in enumerate(self.steps):
            if step.id in position:
                raise ValueError(f"step id {step.id!r} is used twice")
            position[step.id] = index
        for index, step in enumerate(self.steps):
            for target in targets(step):
                if target not in position:
                    raise ValueError(f"step {step.id!r} goes to {target!r}, which is no step")
                if position[target] <= index:
                    raise ValueError(
                        f"step {step.id!r} goes back to {target!r}: a step may only go to a "
                        "step further down, so every workflow ends"
                    )
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def after(self, step_id: str) -> str | None:
        """The step that follows ``step_id`` in the list (None after the last)."""
        ids = [step.id for step in self.steps]
        index = ids.index(step_id)
        return ids[index + 1] if index + 1 < len(ids) else None
