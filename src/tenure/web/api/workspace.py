"""The workspace's settings over HTTP: read by anyone, changed by an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tenure.errors import InvalidInput
from tenure.validation import LineText
from tenure.web.deps import ApiActor, ApiWriter, SessionDep, SettingsDep
from tenure.workspace.actions import set_unique_id_namespaces, update_settings
from tenure.workspace.queries import get_workspace
from tenure.workspace.settings import workspace_settings

router = APIRouter(tags=["workspace"])


class WorkspaceOut(BaseModel):
    name: str
    is_demo: bool
    default_currency: str = Field(description="ISO 4217: the currency of amounts given without")
    time_zone: str = Field(description="IANA name, e.g. Europe/Paris")
    phone_region: str = Field(
        description="ISO 3166 alpha-2: phone numbers written without +country are read in it"
    )
    unique_id_namespaces: list[str] = Field(
        description="External-id namespaces that hold one record per person: the duplicate "
        "matcher counts two different ids there as strong evidence of two people."
    )


class WorkspaceSettingsIn(BaseModel):
    """Only the fields given change."""

    name: LineText | None = None
    default_currency: LineText | None = None
    time_zone: LineText | None = None
    phone_region: LineText | None = None
    unique_id_namespaces: list[LineText] | None = Field(
        None,
        max_length=100,
        description="Replaces the list of one-record-per-person namespaces ([] clears it).",
    )


def _workspace_dict(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    workspace = get_workspace(session)
    current = workspace_settings(session, settings)
    return {
        "name": workspace.name,
        "is_demo": bool(workspace.is_demo),
        "default_currency": current.default_currency,
        "time_zone": current.time_zone,
        "phone_region": current.phone_region,
        "unique_id_namespaces": list(workspace.unique_id_namespaces or []),
    }


@router.get("/workspace", response_model=WorkspaceOut)
def read_workspace(session: SessionDep, settings: SettingsDep, actor: ApiActor) -> dict[str, Any]:
    return _workspace_dict(session, settings)


@router.patch("/workspace", response_model=WorkspaceOut)
def update_workspace(
    body: WorkspaceSettingsIn, session: SessionDep, settings: SettingsDep, actor: ApiWriter
) -> dict[str, Any]:
    """Change the workspace's settings (admins only; audited). A bad value is a 422 naming
    its field; the settings are checked before any of them changes."""
    given = body.model_dump(exclude_unset=True, exclude_none=True)
    if not given:
        raise InvalidInput(
            "body", f"give at least one of {', '.join(WorkspaceSettingsIn.model_fields)}"
        )
    fields = {k: v for k, v in given.items() if k != "unique_id_namespaces"}
    if fields:
        update_settings(
            session=session,
            actor=actor,
            name=body.name,
            default_currency=body.default_currency,
            time_zone=body.time_zone,
            phone_region=body.phone_region,
        )
    if body.unique_id_namespaces is not None:
        set_unique_id_namespaces(session=session, namespaces=body.unique_id_namespaces, actor=actor)
    return _workspace_dict(session, settings)
