"""Workspace administration: custom attribute definitions and the audit log (users are
in ``web.api.users``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from tenure.customers import actions, queries
from tenure.customers.schemas import AttributeDefinitionCreate, AttributeDefinitionOut
from tenure.db.paging import INVALID_CURSOR, MAX_BIGINT
from tenure.errors import InvalidInput
from tenure.identity.permissions import AUDIT_READERS, require_role
from tenure.identity.queries import list_audit_entries
from tenure.validation import RowId
from tenure.web.api.paging import LimitParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(tags=["admin"])


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: str
    changes: dict


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get("/attributes", response_model=list[AttributeDefinitionOut])
def list_attributes(session: SessionDep, actor: ApiActor):
    return queries.list_attribute_definitions(session)


@router.post(
    "/attributes", response_model=AttributeDefinitionOut, status_code=status.HTTP_201_CREATED
)
def define_attribute(body: AttributeDefinitionCreate, session: SessionDep, actor: ApiWriter):
    definition = actions.define_attribute(session=session, data=body, actor_id=actor.user_id)
    session.commit()
    return definition


def _audit_cursor(cursor: str | None) -> int | None:
    """The audit list pages by entry id: its cursor is the last id seen."""
    if not cursor:
        return None
    if not cursor.isdigit() or not cursor.isascii() or int(cursor) > MAX_BIGINT:
        raise InvalidInput("cursor", INVALID_CURSOR)
    return int(cursor)


@router.get("/audit", response_model=AuditPage)
def audit_log(
    session: SessionDep,
    actor: ApiActor,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: RowId | None = None,
    since: datetime | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: LimitParam = 100,
) -> dict:
    """Admins only: every create, update and delete with before/after of changed fields."""
    require_role(actor, AUDIT_READERS)
    after_id = _audit_cursor(cursor)
    entries = list_audit_entries(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        since=since,
        after_id=after_id,
        limit=limit + 1,
    )
    more = len(entries) > limit
    entries = entries[:limit]
    return {
        "items": [
            {
                "id": e.id,
                "at": e.at,
                "actor_id": e.actor_id,
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "changes": e.changes,
            }
            for e in entries
        ],
        "next_cursor": str(entries[-1].id) if more and entries else None,
    }
