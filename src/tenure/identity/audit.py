"""Recording creates, updates and deletes in the audit log, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from tenure.identity.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: {"before": old, "after": new}}`` for the fields whose value changed."""
    changes: dict[str, Any] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes[field] = {"before": _jsonable(old), "after": _jsonable(new)}
    return changes


def record_audit(
    *,
    session: Session,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: object,
    changes: Mapping[str, Any],
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=dict(changes),
    )
    session.add(entry)
    return entry
