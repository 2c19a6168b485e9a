"""The workspace's settings over HTTP: read by anyone, changed by an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tenure.validation import LineText
from tenure.web.deps import ApiActor, SessionDep
from tenure.workspace.actions import set_unique_id_namespaces
from tenure.workspace.queries import get_workspace

router = APIRouter(tags=["workspace"])


class WorkspaceOut(BaseModel):
    name: str
    is_demo: bool
    unique_id_namespaces: list[str] = Field(
        description="External-id namespaces that hold one record per person: the duplicate "
        "matcher counts two different ids there as strong evidence of two people."
    )


class WorkspaceSettingsIn(BaseModel):
    unique_id_namespaces: list[LineText] = Field(
        max_length=100,
        description="Replaces the list of one-record-per-person namespaces ([] clears it).",
    )


def _workspace_dict(session: SessionDep) -> dict[str, Any]:
    workspace = get_workspace(session)
    return {
        "name": workspace.name,
        "is_demo": bool(workspace.is_demo),
        "unique_id_namespaces": list(workspace.unique_id_namespaces or []),
    }


@router.get("/workspace", response_model=WorkspaceOut)
async def read_workspace(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    return _workspace_dict(session)


@router.patch("/workspace", response_model=WorkspaceOut)
async def update_workspace(
    body: WorkspaceSettingsIn, session: SessionDep, actor: ApiActor
) -> dict[str, Any]:
    """Change the workspace's settings (admins only; audited)."""
    set_unique_id_namespaces(session=session, namespaces=body.unique_id_namespaces, actor=actor)
    return _workspace_dict(session)
