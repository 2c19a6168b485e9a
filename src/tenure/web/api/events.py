"""Event ingestion: one event or a batch of up to 10,000, idempotent per source."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from tenure.timeline.actions import record_events_json
from tenure.timeline.schemas import EventLimits, IngestResult
from tenure.web.deps import ApiWriter, RawBody, SessionDep, SettingsDep

router = APIRouter(prefix="/events", tags=["events"])

_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EventIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/EventIn"}},
                    ]
                }
            }
        },
    }
}

BATCH_DOC = """Append one event (an object) or a batch (an array of up to 10,000).

Idempotent on (source, client_event_id): a repeat is acknowledged in `duplicates` with
the id of the stored event and is not stored twice.

A batch is validated item by item. Valid items are stored; invalid ones are listed in
`rejected` with their index, field and reason; nothing is dropped without being listed.
Status: 200 when every item was stored or was a duplicate, 207 when some items were
rejected and others stored, 422 when no item could be stored. A single object answers
201 when stored, 200 when it was a duplicate, 422 when invalid."""


@router.post(
    "",
    response_model=IngestResult,
    openapi_extra=_BODY_SCHEMA,
    description=BATCH_DOC,
    responses={207: {"model": IngestResult}, 422: {"model": IngestResult}},
)
def post_events(
    session: SessionDep, actor: ApiWriter, settings: SettingsDep, body: RawBody
) -> Response:
    # The pipeline's reactions (stages first) run in the action's transaction.
    result, single = record_events_json(
        session=session,
        body=body,
        actor=actor,
        max_batch=settings.max_event_batch,
        limits=EventLimits.from_settings(settings),
    )
    if single:
        code = 201 if result.stored else (200 if result.duplicates else 422)
    elif result.rejected:
        code = 207 if result.stored or result.duplicates else 422
    else:
        code = status.HTTP_200_OK
    return Response(result.model_dump_json(), status_code=code, media_type="application/json")
