"""Changing workspace settings (one transaction each, audited, committed; admins only)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.identity.audit import record_audit
from tenure.identity.permissions import WORKSPACE_ADMINS, Actor, authorize
from tenure.workspace.queries import ensure_workspace

_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def set_unique_id_namespaces(
    *, session: Session, namespaces: list[str], actor: Actor | None
) -> list[str]:
    """Declare the external-id namespaces that hold one record per person (replacing the
    previous list); returns the stored list, sorted and without repeats. Committed."""
    actor_id = authorize(actor, WORKSPACE_ADMINS)
    cleaned = sorted({name.strip().lower() for name in namespaces})
    for name in cleaned:
        if not _NAMESPACE.match(name):
            raise InvalidInput(
                "unique_id_namespaces",
                f"namespace {name!r}: use 1-64 lowercase letters, digits, '_', '.' or '-'",
            )
    workspace = ensure_workspace(session)
    before = list(workspace.unique_id_namespaces or [])
    workspace.unique_id_namespaces = cleaned
    record_audit(
        session=session,
        actor_id=actor_id,
        action="set_id_namespaces",
        entity_type="workspace",
        entity_id=workspace.id,
        changes={"before": before, "after": cleaned},
    )
    session.commit()
    return cleaned
