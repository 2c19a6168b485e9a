"""Exports streamed over HTTP: people and events as CSV, JSON lines or Parquet.

The filters are the people list's (``q``, ``tag``, ``owner_id``, ``organization_id``,
``created_from``, ``created_to``), applied by the same code; the body is produced batch
by batch while the client reads it, so memory stays flat at any size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from tenure.customers.queries import PeopleFilter
from tenure.exports.streaming import MEDIA_TYPES, EventFilter, export_events, export_people
from tenure.validation import RowId
from tenure.web.api.paging import SearchParam
from tenure.web.deps import ApiActor

router = APIRouter(prefix="/exports", tags=["exports"])

ExportFormat = Literal["csv", "jsonl", "parquet"]


def _response(chunks: object, format: str, name: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,  # type: ignore[arg-type]
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


@router.get("/people")
def export_people_endpoint(
    request: Request,
    actor: ApiActor,
    format: ExportFormat = "csv",
    q: SearchParam = None,
    tag: str | None = None,
    owner_id: RowId | None = None,
    organization_id: RowId | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> StreamingResponse:
    """People with identities, attributes, tags and consents, filtered like GET /people."""
    filters = PeopleFilter(
        q=q,
        tag=tag,
        owner_id=owner_id,
        organization_id=organization_id,
        created_from=created_from,
        created_to=created_to,
    )
    chunks = export_people(request.app.state.session_factory, format=format, filters=filters)
    return _response(chunks, format, "people")


@router.get("/events")
def export_events_endpoint(
    request: Request,
    actor: ApiActor,
    format: ExportFormat = "csv",
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
    tag: Annotated[str | None, Query(description="Only events of people with this tag")] = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
) -> StreamingResponse:
    """Events, filtered by type, time and the tag of the people they belong to."""
    filters = EventFilter(
        people=PeopleFilter(tag=tag),
        types=tuple(type or ()),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    chunks = export_events(request.app.state.session_factory, format=format, filters=filters)
    return _response(chunks, format, "events")
