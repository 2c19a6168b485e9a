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


def audit_created(
    *,
    session: Session,
    actor_id: int | None,
    entity_type: str,
    entity_id: object,
    fields: Mapping[str, Any],
) -> AuditEntry:
    """Record that ``entity_type`` ``entity_id`` was created with ``fields``."""
    return record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type=entity_type,
        entity_id=entity_id,
        changes=diff_fields({}, fields),
    )


def audit_changed(
    *,
    session: Session,
    actor_id: int | None,
    entity_type: str,
    entity_id: object,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    action: str = "update",
) -> AuditEntry | None:
    """Record the fields that changed between ``before`` and ``after``; nothing (None) when
    none did, so an edit that saves the same values leaves no empty entry."""
    changes = diff_fields(before, after)
    if not changes:
        return None
    return record_audit(
        session=session,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
    )


def audit_deleted(
    *,
    session: Session,
    actor_id: int | None,
    entity_type: str,
    entity_id: object,
    fields: Mapping[str, Any],
) -> AuditEntry:
    """Record that ``entity_type`` ``entity_id`` was deleted, keeping its last ``fields``."""
    return record_audit(
        session=session,
        actor_id=actor_id,
        action="delete",
        entity_type=entity_type,
        entity_id=entity_id,
        changes=diff_fields(fields, {}),
    )
