"""The organization pages' forms: reading the posted fields into the API's bodies, and
saying what was wrong in words, next to the form that keeps what was typed.

A form posts text; the same pydantic bodies as the API check it (``customers.schemas``),
so the page and the API refuse the same input. Errors name the field as the form labels
it ("Domain: is not a domain name ..."), never a JSON path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from tenure.customers.models import AttributeDefinition, AttributeType
from tenure.errors import Conflict, InvalidInput

#: Each field in the words of its label.
FIELD_WORDS = {
    "name": "Name",
    "domain": "Domain",
    "owner_id": "Owner",
    "tags": "Tags",
    "body": "Note",
    "title": "Task title",
    "due": "Due date",
    "due_at": "Due date",
    "assignee_id": "Assignee",
    "kind": "Activity",
    "direction": "Direction",
    "outcome": "Outcome",
    "duration_minutes": "Duration (minutes)",
    "notes": "Notes",
}


@dataclass(frozen=True)
class FormError:
    """Which form failed (``organization``, ``note``, ``task``, ``activity``), on which
    field, and the sentence to show."""

    form: str
    field: str
    message: str


def _words(field: str, labels: dict[str, str]) -> str:
    if field.startswith("attributes."):
        key = field.removeprefix("attributes.").split(".", 1)[0]
        return labels.get(key, key.replace("_", " ").capitalize())
    head = field.split(".", 1)[0]
    return FIELD_WORDS.get(head, head.replace("_", " ").capitalize())


def form_error(form: str, error: Exception, labels: dict[str, str] | None = None) -> FormError:
    """The error of a refused form in words: a pydantic check, InvalidInput or Conflict."""
    labels = labels or {}
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or form
        reason = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] in ("string_too_short", "missing"):
            reason = "is required"
    elif isinstance(error, InvalidInput):
        field, reason = error.field, error.reason
    elif isinstance(error, Conflict):
        field, reason = error.field or form, str(error)
    else:
        raise error
    words = _words(field, labels)
    return FormError(form, field, f"{words}: {reason[:1].lower()}{reason[1:]}")


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def row_id(form: FormData, name: str) -> int | None:
    """A select of ids: empty means none; anything else not an id is refused by name."""
    value = text(form, name).strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(name, "pick one from the list")
    return int(value)


def tag_list(value: str) -> list[str]:
    """Tags typed as "b2b, vip": trimmed, without repeats, in the order typed."""
    seen: dict[str, None] = {}
    for tag in value.split(","):
        if tag.strip():
            seen.setdefault(tag.strip(), None)
    return list(seen)


def whole_minutes(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput("duration_minutes", "is not a whole number of minutes")


def attribute_values(
    form: FormData, definitions: list[AttributeDefinition], *, only_given: bool
) -> dict[str, Any]:
    """The custom attributes of the form (inputs named ``attr.<key>``), typed for
    ``customers.attributes``: an empty input removes the value. ``only_given`` skips the
    attributes the form did not carry."""
    values: dict[str, Any] = {}
    for definition in definitions:
        name = f"attr.{definition.key}"
        if definition.type == AttributeType.boolean.value:
            if only_given and f"{name}.shown" not in form:
                continue
            values[definition.key] = name in form
            continue
        if only_given and name not in form:
            continue
        raw = text(form, name).strip()
        if not raw:
            values[definition.key] = None
        elif definition.type == AttributeType.number.value:
            values[definition.key] = _number(raw, definition.key)
        else:
            values[definition.key] = raw
    return values


def _number(raw: str, key: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        raise InvalidInput(f"attributes.{key}", "must be a number")
