"""Segments: create (a filter or a static list), preview, list, get, update, delete,
members (keyset paged), CSV export, refresh, and size over time.

A filter that does not parse or compile is a 422 naming the field ``filter`` with the
0-based ``position`` of the mistake and what was ``expected`` there.

Evaluating a filter over every person can take seconds on a large workspace, unlike the
millisecond lookups that the other endpoints run inline on the event loop (see
``web.deps``); preview, create, update and refresh therefore run in the thread pool so
that one long evaluation does not stall every other request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute

from tenure.segments import actions, queries
from tenure.segments.membership import Change
from tenure.segments.schemas import (
    ChangeOut,
    MemberOut,
    MembersChange,
    PreviewIn,
    PreviewOut,
    RefreshAllOut,
    SegmentCreate,
    SegmentList,
    SegmentOut,
    SegmentUpdate,
    SnapshotOut,
)
from tenure.segments.syntax import FilterError
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam, PageOut
from tenure.web.deps import (
    ApiActor,
    ApiWriter,
    SessionDep,
    SettingsDep,
    WorkspaceCurrency,
    write_now,
)
from tenure.workspace.settings import currency


def filter_error_body(error: FilterError) -> dict[str, Any]:
    return {
        "error": "invalid_input",
        "errors": [
            {
                "field": error.field,
                "reason": error.reason,
                "position": error.position,
                "expected": list(error.expected),
            }
        ],
    }


class _FilterErrorRoute(APIRoute):
    """Adds ``position`` and ``expected`` to the 422 of a filter that does not compile."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except FilterError as error:
                return JSONResponse(filter_error_body(error), status_code=422)

        return route


router = APIRouter(prefix="/segments", tags=["segments"], route_class=_FilterErrorRoute)


def _change(change: Change) -> dict[str, Any]:
    return {
        "segment_id": change.segment_id,
        "name": change.name,
        "members": change.members,
        "entered": change.entered,
        "exited": change.exited,
        "as_of": change.as_of,
    }


@router.get("", response_model=SegmentList)
def list_segments(session: SessionDep, actor: ApiActor) -> dict:
    """Your segments by name, then the built-in RFM segments and value tiers."""
    actions.ensure_builtins(session)
    return {"items": [queries.segment_dict(s) for s in queries.list_segments(session)]}


@router.post("", response_model=SegmentOut, status_code=status.HTTP_201_CREATED)
def create_segment(
    body: SegmentCreate, session: SessionDep, actor: ApiWriter, settings: SettingsDep
) -> dict:
    """Create a dynamic segment (its members are computed at once) or a static list."""

    def create() -> dict:
        segment, _ = actions.create_segment(
            session=session, data=body, actor=actor, currency=currency(session, settings)
        )
        return queries.segment_dict(segment)

    return write_now(session, create)


@router.post("/preview", response_model=PreviewOut)
def preview_segment(
    body: PreviewIn, session: SessionDep, actor: ApiActor, settings: SettingsDep
) -> dict:
    """Count the people a filter selects now, with a sample of 20, without saving."""
    return queries.preview(session, filter=body.filter, currency=currency(session, settings))


@router.post("/refresh", response_model=RefreshAllOut)
def refresh_all(request: Request, actor: ApiWriter, workspace_currency: WorkspaceCurrency) -> dict:
    """Refresh every dynamic segment (one transaction each)."""
    changes, failed = actions.refresh_all_segments(
        session_factory=request.app.state.session_factory,
        currency=workspace_currency,
    )
    return {"items": [_change(c) for c in changes], "failed": failed}


@router.get("/{segment_id}", response_model=SegmentOut)
def get_segment(segment_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return queries.segment_dict(queries.get_segment(session, segment_id))


@router.patch("/{segment_id}", response_model=SegmentOut)
def update_segment(
    segment_id: RowId,
    body: SegmentUpdate,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
) -> dict:
    """Rename or describe a segment, or change its filter (applied at once)."""

    def update() -> dict:
        segment, _ = actions.update_segment(
            session=session,
            segment_id=segment_id,
            data=body,
            actor=actor,
            currency=currency(session, settings),
        )
        return queries.segment_dict(segment)

    return write_now(session, update)


@router.delete("/{segment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_segment(segment_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    actions.delete_segment(session=session, segment_id=segment_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{segment_id}/members", response_model=PageOut[MemberOut])
def list_members(
    segment_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    """Members as of the last refresh, by person id."""
    page = queries.list_members(session, segment_id, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/{segment_id}/members", response_model=ChangeOut)
def change_members(
    segment_id: RowId, body: MembersChange, session: SessionDep, actor: ApiWriter
) -> dict:
    """Add people to and remove people from a static list."""
    change = actions.change_members(
        session=session,
        segment_id=segment_id,
        add=body.add,
        remove=body.remove,
        actor=actor,
    )
    return _change(change)


@router.get("/{segment_id}/export")
def export_members(segment_id: RowId, request: Request, actor: ApiActor) -> StreamingResponse:
    """Members as CSV (person id, names, primary email and phone, organization, tags,
    entered_at), streamed batch by batch."""
    chunks = queries.export_members_csv(request.app.state.session_factory, segment_id)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
    )


@router.post("/{segment_id}/refresh", response_model=ChangeOut)
def refresh_segment(
    segment_id: RowId, session: SessionDep, actor: ApiWriter, settings: SettingsDep
) -> dict:
    """Bring a dynamic segment's members up to date; entries and exits become events."""

    def refresh() -> dict:
        change = actions.refresh_segment(
            session=session,
            segment_id=segment_id,
            currency=currency(session, settings),
            actor=actor,
        )
        return _change(change)

    return write_now(session, refresh)


@router.get("/{segment_id}/snapshots")
def list_snapshots(segment_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    """Size after each refresh or list change, oldest first."""
    items = queries.snapshots(session, segment_id)
    return {"items": [SnapshotOut(**item).model_dump() for item in items]}
