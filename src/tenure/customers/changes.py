"""Change listeners: what a capability above ``customers`` runs when a person's fields
change, inside the transaction that changes them.

``customers`` sits below the timeline and automation, so it cannot call them; instead
they register a listener at start-up (``tenure.registrations``), the way reactions
register with the event pipeline. ``customers.actions.update_person`` and
``record_consent`` (and so every page, API call, bulk action and workflow step that goes
through them) call :func:`notify` with one :class:`PersonChange` per changed field:
``first_name``, ``job_title``, ``owner_id``, ``tags``, ``attribute.<key>``,
``consent.<channel>.<purpose>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PersonChange:
    person_id: int
    field: str
    before: Any
    after: Any


Listener = Callable[[Session, Sequence[PersonChange]], object]

_listeners: dict[str, tuple[int, Listener]] = {}


def register_listener(name: str, listener: Listener, *, order: int = 100) -> None:
    """Call ``listener(session, changes)`` after person fields change (lower order
    first); registering a name again replaces it."""
    _listeners[name] = (order, listener)


def notify(session: Session, changes: Sequence[PersonChange]) -> None:
    if not changes or not _listeners:
        return
    for _, listener in sorted(_listeners.values(), key=lambda item: item[0]):
        listener(session, changes)


def field_changes(person_id: int, diff: Mapping[str, Mapping[str, Any]]) -> list[PersonChange]:
    """``identity.audit.diff_fields`` output as changes, attributes one key at a time."""
    found: list[PersonChange] = []
    for name, values in diff.items():
        before, after = values.get("before"), values.get("after")
        if name == "attributes":
            old, new = dict(before or {}), dict(after or {})
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    found.append(
                        PersonChange(person_id, f"attribute.{key}", old.get(key), new.get(key))
                    )
        elif name != "identities":
            found.append(PersonChange(person_id, name, before, after))
    return found
