"""Saved views of the people list over HTTP, and the export of a saved view."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from tenure.customers.queries import PeopleFilter
from tenure.lists import actions
from tenure.lists.columns import COLUMNS, DEFAULT_SORT, parse_columns, parse_sort
from tenure.lists.export import MEDIA_TYPES, export_view
from tenure.lists.models import SavedView
from tenure.lists.queries import View
from tenure.lists.views import as_view, get_view, visible_views
from tenure.validation import LineText, RowId
from tenure.web.deps import ApiAccountWriter, ApiActor, SessionDep
from tenure.workspace.settings import time_zone

router = APIRouter(tags=["views"])


class ViewFilters(BaseModel):
    q: LineText | None = None
    tag: LineText | None = None
    owner_id: RowId | None = None


class ViewIn(BaseModel):
    name: LineText
    shared: bool = Field(False, description="In everyone's menu (roles that write only)")
    filters: ViewFilters = Field(default_factory=ViewFilters)
    columns: list[LineText] = Field(
        default_factory=list,
        max_length=len(COLUMNS),
        description=f"Column keys, of: {', '.join(COLUMNS)} (empty: the default columns)",
    )
    sort: LineText = Field(DEFAULT_SORT, description="A sortable column key; '-key' descends")


class ViewChangeIn(BaseModel):
    name: LineText | None = None
    shared: bool | None = None
    columns: list[LineText] | None = Field(None, max_length=len(COLUMNS))
    sort: LineText | None = None


class ViewOut(BaseModel):
    id: int
    name: str
    shared: bool
    owner_id: int
    mine: bool
    filters: dict[str, Any]
    columns: list[str]
    sort: str
    updated_at: datetime


def _view_dict(saved: SavedView, user_id: int) -> dict[str, Any]:
    return {
        "id": saved.id,
        "name": saved.name,
        "shared": saved.shared,
        "owner_id": saved.owner_id,
        "mine": saved.owner_id == user_id,
        "filters": saved.filters,
        "columns": saved.columns,
        "sort": saved.sort,
        "updated_at": saved.updated_at,
    }


@router.get("/views", response_model=list[ViewOut])
def list_views(session: SessionDep, actor: ApiActor) -> list[dict[str, Any]]:
    """Your views of the people list and those shared with the workspace."""
    return [_view_dict(v, actor.user_id) for v in visible_views(session, actor)]


@router.post("/views", response_model=ViewOut, status_code=status.HTTP_201_CREATED)
def create_view(body: ViewIn, session: SessionDep, actor: ApiAccountWriter) -> dict:
    """Save a view (every role saves its own; sharing takes a role that writes)."""
    view = View(
        filters=PeopleFilter(
            q=body.filters.q, tag=body.filters.tag, owner_id=body.filters.owner_id
        ),
        columns=parse_columns(body.columns),
        sort=parse_sort(body.sort),
    )
    saved = actions.save_view(
        session=session, actor=actor, name=body.name, view=view, shared=body.shared
    )
    return _view_dict(saved, actor.user_id)


@router.patch("/views/{view_id}", response_model=ViewOut)
def change_view(
    view_id: RowId, body: ViewChangeIn, session: SessionDep, actor: ApiAccountWriter
) -> dict:
    saved = actions.update_view(
        session=session,
        actor=actor,
        view_id=view_id,
        name=body.name,
        shared=body.shared,
        columns=body.columns,
        sort=body.sort,
    )
    return _view_dict(saved, actor.user_id)


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_view(view_id: RowId, session: SessionDep, actor: ApiAccountWriter) -> Response:
    actions.delete_view(session=session, actor=actor, view_id=view_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/views/{view_id}/export")
def export_saved_view(
    view_id: RowId,
    request: Request,
    session: SessionDep,
    actor: ApiActor,
    format: Literal["csv", "xlsx"] = "csv",
) -> StreamingResponse:
    """Every person the view selects, in its columns and sort order, streamed."""
    view = as_view(get_view(session, actor, view_id))
    tz = time_zone(session)
    session.rollback()  # end this read: the export reads in short sessions of its own
    chunks = export_view(request.app.state.session_factory, view, format=format, tz=tz)
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="view-{view_id}.{format}"'},
    )
