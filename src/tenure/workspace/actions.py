"""Changing workspace settings (one transaction each, audited, committed; admins only)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.identity.audit import audit_changed, record_audit
from tenure.identity.permissions import WORKSPACE_ADMINS, Actor, authorize
from tenure.workspace.models import Workspace
from tenure.workspace.queries import ensure_workspace
from tenure.workspace.settings import (
    clean_currency,
    clean_name,
    clean_phone_region,
    clean_time_zone,
)

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


def update_settings(
    *,
    session: Session,
    actor: Actor | None,
    name: str | None = None,
    default_currency: str | None = None,
    time_zone: str | None = None,
    phone_region: str | None = None,
) -> Workspace:
    """Change the workspace's name, default currency, time zone and phone region (those
    given; each validated, 422 naming the field). Admins only; audited; committed."""
    actor_id = authorize(actor, WORKSPACE_ADMINS)
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if default_currency is not None:
        changes["default_currency"] = clean_currency(default_currency)
    if time_zone is not None:
        changes["time_zone"] = clean_time_zone(time_zone)
    if phone_region is not None:
        changes["phone_region"] = clean_phone_region(phone_region)
    workspace = ensure_workspace(session)
    before = {field: getattr(workspace, field) for field in changes}
    for field, value in changes.items():
        setattr(workspace, field, value)
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="workspace",
        entity_id=workspace.id,
        before=before,
        after=changes,
    )
    session.commit()
    return workspace
