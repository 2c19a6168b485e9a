"""Edits of a draft from the builder's forms: add, change, move and remove a step, and the
settings (trigger, conditions, goal, exits, re-entry, holdout).

Each edit takes the draft (a JSON document), returns a new one and checks it against the
definition's schema, so a form that would make an impossible workflow (a jump backwards,
a wait of nothing) is refused with the field named; saving the result is the engine's
action (``automation.actions.update_draft``). Nothing here touches the database.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tenure.automation.definition import Definition, Step, Trigger
from tenure.errors import InvalidInput

STEP_KINDS: dict[str, str] = {
    "wait": "Wait",
    "wait_until_time": "Wait until a time of day",
    "wait_for_event": "Wait for an event",
    "branch": "Branch on a condition",
    "split": "Random split",
    "send_email": "Send an email",
    "create_task": "Create a task for the owner",
    "set_field": "Set a field",
    "add_tag": "Add a tag",
    "remove_tag": "Remove a tag",
    "set_stage": "Set the stage",
    "add_to_list": "Add to a static list",
    "remove_from_list": "Remove from a static list",
    "call_webhook": "Call a webhook",
    "enrol": "Enrol in another workflow",
    "exit": "Exit",
}
TRIGGER_KINDS: dict[str, str] = {
    "event": "An event happens",
    "stage_changed": "The stage changes",
    "segment_entered": "A person enters a segment",
    "segment_exited": "A person leaves a segment",
    "field_changed": "A field changes",
    "score_crossed": "A score crosses a threshold",
    "date_attribute": "A date attribute comes round",
    "schedule": "On a schedule",
    "manual": "Only by hand",
}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    #: number, text, textarea, filter, time, step (a later step), template, segment,
    #: workflow, purpose, checkbox, direction, policy
    input: str
    required: bool = False


_JUMP = Field("next", "Then go to", "step")
STEP_FIELDS: dict[str, list[Field]] = {
    "wait": [
        Field("days", "Days", "number"),
        Field("hours", "Hours", "number"),
        Field("minutes", "Minutes", "number"),
    ],
    "wait_until_time": [Field("time", "Time of day (HH:MM)", "time", True)],
    "wait_for_event": [
        Field("event_type", "Event type", "text", True),
        Field("timeout_days", "Time out after days", "number"),
        Field("timeout_hours", "and hours", "number"),
        Field("on_event", "If it happens, go to", "step"),
        Field("on_timeout", "If not, go to", "step"),
    ],
    "branch": [
        Field("condition", "Condition (filter language)", "filter", True),
        Field("if_true", "If it holds, go to", "step"),
        Field("if_false", "Else go to", "step"),
    ],
    "split": [
        Field("percent_a", "Percent to the first way", "number", True),
        Field("a", "First way goes to", "step"),
        Field("b", "The rest go to", "step"),
    ],
    "send_email": [
        Field("template_id", "Template", "template", True),
        Field("purpose", "Purpose", "purpose"),
    ],
    "create_task": [
        Field("title", "Task title", "text", True),
        Field("due_in_days", "Due in days", "number"),
    ],
    "set_field": [Field("field", "Field", "text", True), Field("value", "Value", "text")],
    "add_tag": [Field("tag", "Tag", "text", True)],
    "remove_tag": [Field("tag", "Tag", "text", True)],
    "set_stage": [Field("stage", "Stage key", "text", True)],
    "add_to_list": [Field("segment_id", "Static list", "segment", True)],
    "remove_from_list": [Field("segment_id", "Static list", "segment", True)],
    "call_webhook": [Field("url", "URL", "text", True)],
    "enrol": [Field("workflow_id", "Workflow", "workflow", True)],
    "exit": [],
}
#: Form fields folded into another key (a duration) rather than copied as they are.
_FOLDED = {"days", "hours", "minutes", "timeout_days", "timeout_hours"}
_BRANCHING = {"wait_for_event", "branch", "split"}

_step_adapter: TypeAdapter[Step] = TypeAdapter(Step)
_trigger_adapter: TypeAdapter[Trigger] = TypeAdapter(Trigger)


def fields_for(kind: str) -> list[Field]:
    if kind not in STEP_FIELDS:
        raise InvalidInput("kind", f"{kind!r} is not a kind of step")
    fields = STEP_FIELDS[kind]
    return fields if kind in _BRANCHING or kind == "exit" else [*fields, _JUMP]


def _invalid(error: ValidationError, prefix: str = "") -> InvalidInput:
    first = error.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"] if not str(part).startswith(("function",))]
    field = ".".join(location) or prefix or "draft"
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(f"{prefix}.{field}" if prefix and location else field, message)


def _int(form: Mapping[str, str], name: str, default: int | None = 0) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, f"{raw!r} is not a whole number") from None


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _value(raw: str | None) -> Any:
    """A set_field value: numbers and true/false as such, empty as null, else text."""
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def step_from_form(kind: str, step_id: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The step a form describes, checked on its own (jumps are checked with the draft)."""
    fields_for(kind)
    step: dict[str, Any] = {"id": step_id, "kind": kind}
    if kind == "wait":
        step["duration"] = {u: _int(form, u) for u in ("days", "hours", "minutes")}
    elif kind == "wait_for_event":
        step["event_type"] = _text(form, "event_type") or ""
        step["timeout"] = {"days": _int(form, "timeout_days"), "hours": _int(form, "timeout_hours")}
    elif kind == "split":
        step["percent_a"] = _int(form, "percent_a", None)
    elif kind == "send_email":
        step["template_id"] = _int(form, "template_id", None)
        step["purpose"] = _text(form, "purpose") or "marketing"
    elif kind == "create_task":
        step["title"] = _text(form, "title") or ""
        step["due_in_days"] = _int(form, "due_in_days", 1)
    elif kind == "set_field":
        step["field"] = _text(form, "field") or ""
        step["value"] = _value(_text(form, "value"))
    elif kind in ("add_to_list", "remove_from_list", "enrol"):
        name = "workflow_id" if kind == "enrol" else "segment_id"
        step[name] = _int(form, name, None)
    for field in fields_for(kind):
        if (
            field.name in step
            or field.name in ("days", "hours", "minutes")
            or field.name.startswith("timeout_")
        ):
            continue
        step[field.name] = _text(form, field.name) or ("" if field.required else None)
    try:
        return _step_adapter.validate_python(step).model_dump(mode="json", exclude_none=True)
    except ValidationError as error:
        raise _invalid(error) from None


def check(draft: Mapping[str, Any]) -> Definition:
    """The draft as a definition, or InvalidInput naming the first problem."""
    try:
        return Definition.model_validate(draft)
    except ValidationError as error:
        raise _invalid(error) from None


def _steps(draft: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(draft.get("steps") or [])


def new_step_id(draft: Mapping[str, Any]) -> str:
    used = {step.get("id") for step in _steps(draft)}
    number = len(used) + 1
    while f"s{number}" in used:
        number += 1
    return f"s{number}"


def _index(draft: Mapping[str, Any], step_id: str) -> int:
    for index, step in enumerate(_steps(draft)):
        if step.get("id") == step_id:
            return index
    raise InvalidInput("step", f"there is no step {step_id!r}")


def add_step(draft: Mapping[str, Any], step: dict[str, Any], after: str | None = None) -> dict:
    """A new draft with ``step`` after ``after`` (at the end when None)."""
    edited = copy.deepcopy(dict(draft))
    steps = _steps(edited)
    position = _index(edited, after) + 1 if after else len(steps)
    steps.insert(position, step)
    edited["steps"] = steps
    check(edited)
    return edited


def replace_step(draft: Mapping[str, Any], step: dict[str, Any]) -> dict:
    edited = copy.deepcopy(dict(draft))
    steps = _steps(edited)
    steps[_index(edited, step["id"])] = step
    edited["steps"] = steps
    check(edited)
    return edited


_JUMP_KEYS = ("next", "on_event", "on_timeout", "if_true", "if_false", "a", "b")


def remove_step(draft: Mapping[str, Any], step_id: str) -> dict:
    """Without the step; jumps that went to it go to the step after it instead."""
    edited = copy.deepcopy(dict(draft))
    steps = _steps(edited)
    index = _index(edited, step_id)
    following = steps[index + 1]["id"] if index + 1 < len(steps) else None
    del steps[index]
    for step in steps:
        for key in _JUMP_KEYS:
            if step.get(key) == step_id:
                step[key] = following
    edited["steps"] = steps
    check(edited)  # a workflow keeps at least one step
    return edited


def move_step(draft: Mapping[str, Any], step_id: str, offset: int) -> dict:
    """The step moved up (-1) or down (+1); refused if a jump would then go backwards."""
    edited = copy.deepcopy(dict(draft))
    steps = _steps(edited)
    index = _index(edited, step_id)
    target = index + offset
    if not 0 <= target < len(steps):
        raise InvalidInput("step", "the step is already at that end of the list")
    steps.insert(target, steps.pop(index))
    edited["steps"] = steps
    check(edited)
    return edited


def settings_from_form(draft: Mapping[str, Any], form: Mapping[str, str]) -> dict:
    """The draft with the trigger, conditions, goal, exits, re-entry and holdout of the
    settings form."""
    edited = copy.deepcopy(dict(draft))
    kind = form.get("trigger_kind") or "manual"
    trigger: dict[str, Any] = {"kind": kind}
    if kind == "event":
        trigger["event_type"] = _text(form, "event_type") or ""
    elif kind == "stage_changed":
        trigger["from_stage"] = _text(form, "from_stage")
        trigger["to_stage"] = _text(form, "to_stage")
    elif kind in ("segment_entered", "segment_exited"):
        trigger["segment_id"] = _int(form, "segment_id", None)
    elif kind == "field_changed":
        trigger["field"] = _text(form, "field") or ""
        trigger["to_value"] = _text(form, "to_value")
    elif kind == "score_crossed":
        trigger["score"] = _text(form, "score") or ""
        trigger["threshold"] = _text(form, "threshold")
        trigger["direction"] = form.get("direction") or "above"
    elif kind == "date_attribute":
        trigger["attribute"] = _text(form, "attribute") or ""
        trigger["offset_days"] = _int(form, "offset_days")
        trigger["yearly"] = form.get("yearly") == "on"
    elif kind == "schedule":
        trigger["cron"] = _text(form, "cron") or ""
    try:
        edited["trigger"] = _trigger_adapter.validate_python(trigger).model_dump(mode="json")
    except ValidationError as error:
        raise _invalid(error, "trigger") from None
    edited["conditions"] = _text(form, "conditions")
    goal = _text(form, "goal_event_type")
    edited["goal"] = (
        {"event_type": goal, "condition": _text(form, "goal_condition")} if goal else None
    )
    edited["exit_when"] = {
        "unsubscribed": form.get("exit_unsubscribed") == "on",
        "churned": form.get("exit_churned") == "on",
        "condition": _text(form, "exit_condition"),
    }
    edited["re_entry"] = {
        "policy": form.get("re_entry") or "after_exit",
        "cooldown_days": _int(form, "cooldown_days"),
    }
    edited["holdout_percent"] = _int(form, "holdout_percent")
    if edited.get("steps"):
        check(edited)
    return edited
