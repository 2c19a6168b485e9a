"""People: CRUD with filters and keyset paging, the 360 view, timeline, consents, notes, tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.customers import people, queries
from tenure.customers.schemas import (
    ActivityCreate,
    ConsentIn,
    NoteCreate,
    NoteOut,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    TaskCreate,
    TaskOut,
)
from tenure.dedup import actions as dedup_actions
from tenure.dedup.merge import survivor_of_merged
from tenure.errors import NotFound
from tenure.summaries.queries import people_page_json, person_360_json
from tenure.summaries.schemas import Person360
from tenure.timeline import actions as logged
from tenure.timeline.queries import person_timeline
from tenure.timeline.schemas import TimelinePage
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam, PageOut, SearchParam
from tenure.web.api.query_models import openapi_parameters, parse_query
from tenure.web.deps import ApiActor, ApiWriter, SessionDep, SettingsDep, key_read, write_now
from tenure.workspace.settings import phone_region

router = APIRouter(prefix="/people", tags=["people"])


PeopleSort = Literal["-created_at", "created_at", "last_name", "-last_name", "id", "-id"]


class PossibleDuplicate(BaseModel):
    id: int = Field(description="The existing person this one probably duplicates.")
    name: str
    score: float = Field(description="The matcher's match probability, 0..1.")
    evidence: list[str] = Field(description='Per compared field, in words ("Email: ...").')


class PersonCreatedOut(PersonOut):
    possible_duplicates: list[PossibleDuplicate] = Field(
        description="Existing people this one probably duplicates; each pair is queued "
        "for review (GET /duplicates)."
    )


_DUPLICATE_DOC = (
    "create (default): create the person anyway and queue each probable duplicate for "
    "review; reject: answer 409 with the candidates and create nothing."
)


class PeopleListQuery(BaseModel):
    """``GET /people``'s query parameters (``web.api.query_models``)."""

    q: SearchParam = None
    tag: str | None = None
    owner_id: RowId | None = None
    organization_id: RowId | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: PeopleSort = "-created_at"
    cursor: CursorParam = None
    limit: LimitParam = 50


@router.get(
    "",
    response_model=PageOut[PersonOut],
    openapi_extra={"parameters": openapi_parameters(PeopleListQuery)},
)
async def list_people(request: Request) -> Response:
    params = parse_query(PeopleListQuery, request)
    filters = queries.PeopleFilter(
        q=params.q,
        tag=params.tag,
        owner_id=params.owner_id,
        organization_id=params.organization_id,
        created_from=params.created_from,
        created_to=params.created_to,
    )
    sort, cursor, limit = params.sort, params.cursor, params.limit

    def page() -> bytes:
        with key_read(request) as (connection, _):
            return people_page_json(
                connection, filters=filters, sort=sort, cursor=cursor, limit=limit
            )

    # The read model's JSON as stored: the response model documents the shape. A page of
    # the whole list is a keyset read over a sort index, served on the event loop
    # (web.deps.key_read); a filtered one may scan, so it runs on the thread pool.
    body = page() if filters == queries.PeopleFilter() else await run_in_threadpool(page)
    return Response(body, media_type="application/json")


@router.post(
    "",
    response_model=PersonCreatedOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "on_duplicate=reject and probable duplicates exist."}},
)
def create_person(
    body: PersonCreate,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
    on_duplicate: Annotated[
        Literal["create", "reject"], Query(description=_DUPLICATE_DOC)
    ] = "create",
) -> dict | Response:
    """Create a person; people it probably duplicates are listed (and queued for review)."""
    region = phone_region(session, settings)
    # The duplicate check fits the matcher (about a second on the demo's 24,000 people):
    # in the thread pool, so the event loop serves other requests meanwhile.
    admission = write_now(
        session,
        lambda: dedup_actions.create_person(
            session=session,
            data=body,
            actor=actor,
            default_region=region,
            on_duplicate=on_duplicate,
        ),
    )
    shown = admission.possible_duplicates
    if admission.person is None:
        message = f"probably a duplicate of {len(shown)} existing person(s); nothing created"
        body_409 = {"error": "conflict", "message": message, "possible_duplicates": shown}
        return JSONResponse(body_409, status_code=status.HTTP_409_CONFLICT)
    return {**queries.get_person(session, admission.person.id), "possible_duplicates": shown}


@router.get(
    "/{person_id}",
    response_model=Person360,
    responses={308: {"description": "The person was merged away: Location is the survivor."}},
)
async def get_person(person_id: RowId, request: Request) -> Response:
    # On the event loop: one read by primary key (web.deps.key_read).
    with key_read(request) as (connection, _):
        try:
            view = person_360_json(connection, person_id)
        except NotFound:
            with Session(bind=connection) as session:
                survivor_id = survivor_of_merged(session, person_id)
            if survivor_id is None:
                raise
            return RedirectResponse(f"/api/v1/people/{survivor_id}", status_code=308)
    # The read model's JSON as stored (one statement): the response model documents it.
    return Response(view, media_type="application/json")


@router.patch("/{person_id}", response_model=PersonOut)
def update_person(
    person_id: RowId,
    body: PersonUpdate,
    session: SessionDep,
    actor: ApiWriter,
    settings: SettingsDep,
) -> dict:
    people.update_person(
        session=session,
        person_id=person_id,
        data=body,
        actor=actor,
        default_region=phone_region(session, settings),
    )
    return queries.get_person(session, person_id)


@router.delete("/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_person(person_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    people.delete_person(session=session, person_id=person_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{person_id}/timeline", response_model=TimelinePage)
def get_timeline(
    person_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
    channel: Annotated[list[str] | None, Query(description="Only these channels")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    items, next_cursor = person_timeline(
        session,
        person_id=person_id,
        types=type or [],
        channels=channel or [],
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post("/{person_id}/consents", status_code=status.HTTP_201_CREATED)
def record_consent(
    person_id: RowId, body: ConsentIn, session: SessionDep, actor: ApiWriter
) -> dict:
    people.record_consent(session=session, person_id=person_id, consent=body, actor=actor)
    return {"consents": queries.current_consents(session, person_id)}


@router.get("/{person_id}/consents/history")
def consent_history(person_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    queries.get_person(session, person_id)
    return {
        "items": [
            {
                "channel": r.channel,
                "purpose": r.purpose,
                "status": r.status,
                "source": r.source,
                "recorded_at": r.recorded_at,
                "recorded_by_id": r.recorded_by_id,
            }
            for r in queries.consent_history(session, person_id)
        ]
    }


@router.post("/{person_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
def add_note(person_id: RowId, body: NoteCreate, session: SessionDep, actor: ApiWriter):
    return logged.add_note(session=session, data=body, actor=actor, person_id=person_id)


@router.get("/{person_id}/notes", response_model=list[NoteOut])
def list_notes(person_id: RowId, session: SessionDep, actor: ApiActor):
    queries.get_person(session, person_id)
    return queries.notes_for(session, person_id=person_id)


@router.post("/{person_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED)
def create_task(person_id: RowId, body: TaskCreate, session: SessionDep, actor: ApiWriter):
    return people.create_task(session=session, data=body, actor=actor, person_id=person_id)


@router.get("/{person_id}/tasks", response_model=list[TaskOut])
def list_tasks(person_id: RowId, session: SessionDep, actor: ApiActor):
    queries.get_person(session, person_id)
    return queries.tasks_for(session, person_id=person_id)


class ActivityLogged(ActivityCreate):
    person_ids: list[int] = Field(description="The people whose timeline now holds it.")


@router.post(
    "/{person_id}/activities", response_model=ActivityLogged, status_code=status.HTTP_201_CREATED
)
def log_activity(person_id: RowId, body: ActivityCreate, session: SessionDep, actor: ApiWriter):
    """Log a call, meeting or email: a ``call``/``meeting``/``email`` event on the timeline."""
    done = logged.log_activity(session=session, data=body, actor=actor, person_id=person_id)
    return {**body.model_dump(), "person_ids": done.person_ids, "occurred_at": done.occurred_at}
