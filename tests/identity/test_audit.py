"""The audit helpers: what a create, a change and a delete leave in the audit log."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tenure.identity.audit import audit_changed, audit_created, audit_deleted
from tenure.identity.models import AuditEntry


def _entries(session, entity_id: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(
        AuditEntry.entity_type == "thing", AuditEntry.entity_id == entity_id
    )
    return list(session.scalars(query.order_by(AuditEntry.id)))


def test_created_changed_and_deleted_record_the_fields(session):
    audit_created(
        session=session,
        actor_id=None,
        entity_type="thing",
        entity_id=7,
        fields={"name": "Ada", "born": date(1815, 12, 10)},
    )
    audit_changed(
        session=session,
        actor_id=None,
        entity_type="thing",
        entity_id=7,
        before={"name": "Ada", "city": "London"},
        after={"name": "Ada Lovelace", "city": "London"},
    )
    audit_deleted(
        session=session, actor_id=None, entity_type="thing", entity_id=7, fields={"name": "Ada"}
    )
    session.flush()
    created, changed, deleted = _entries(session, "7")
    assert (created.action, changed.action, deleted.action) == ("create", "update", "delete")
    assert created.changes == {
        "born": {"before": None, "after": "1815-12-10"},
        "name": {"before": None, "after": "Ada"},
    }
    assert changed.changes == {"name": {"before": "Ada", "after": "Ada Lovelace"}}
    assert deleted.changes == {"name": {"before": "Ada", "after": None}}


def test_a_change_that_changes_nothing_leaves_no_entry(session):
    entry = audit_changed(
        session=session,
        actor_id=None,
        entity_type="thing",
        entity_id=8,
        before={"name": "Ada"},
        after={"name": "Ada"},
    )
    session.flush()
    assert entry is None and _entries(session, "8") == []
