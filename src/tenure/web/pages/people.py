"""People pages: the list with search, tag and owner filters, and the person page (its
cards come from ``tenure.profile``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tenure.customers import activities, queries
from tenure.customers.schemas import ActivityCreate, NoteCreate, TaskCreate
from tenure.dedup.merge import survivor_of_merged
from tenure.errors import InvalidInput, NotFound
from tenure.profile.cards import load_cards, person_view
from tenure.timeline import activities as logged
from tenure.timeline.queries import person_timeline
from tenure.timeline.story import CHANNEL_LABELS, TYPE_LABELS, tell
from tenure.validation import RowId, parse_row_id
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.security import verify_csrf
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/people")
async def people_list(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    q: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    cursor: str | None = None,
) -> Response:
    owner_id = parse_row_id(owner)
    filters = queries.PeopleFilter(q=q or None, tag=tag or None, owner_id=owner_id)
    page = queries.list_people(session, filters=filters, cursor=cursor, limit=PAGE_SIZE)
    return render(
        request,
        "people/list.html",
        ctx=ctx,
        people=page.items,
        next_cursor=page.next_cursor,
        q=q or "",
        tag=tag or "",
        owner_id=owner_id,
        is_first_page=cursor is None,
        tags=queries.list_tag_names(session),
        owners=queries.list_owners(session),
    )


@router.get("/people/{person_id}")
async def person_page(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
    type: str | None = None,
    channel: str | None = None,
) -> Response:
    try:
        person = queries.get_person(session, person_id)
    except NotFound:
        survivor_id = survivor_of_merged(session, person_id)
        if survivor_id is None:
            raise
        # 307, not 308: undoing the merge gives the id back, so browsers must not cache it.
        return RedirectResponse(f"/people/{survivor_id}", status_code=307)
    events, next_cursor = person_timeline(
        session,
        person_id=person_id,
        types=[type] if type else [],
        channels=[channel] if channel else [],
        cursor=cursor,
        limit=50,
    )
    # One clock reading for every card: the cards capabilities registered (tenure.profile).
    view = person_view(session, person_id)
    return render(
        request,
        "people/detail.html",
        ctx=ctx,
        person=person,
        view=view,
        cards=load_cards(session, view),
        events=[(e, tell(e)) for e in events],
        next_cursor=next_cursor,
        event_type=type or "",
        event_channel=channel or "",
        type_labels=TYPE_LABELS,
        channel_labels=CHANNEL_LABELS,
        owners={u.id: u for u in queries.list_owners(session)},
        assignees=queries.list_assignees(session),
    )


@router.post("/people/{person_id}/notes")
async def add_note(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    body: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    verify_csrf(request, csrf_token)
    try:
        data = NoteCreate(body=body)
    except ValidationError:
        raise InvalidInput("body", "a note needs some text")
    logged.add_note(session=session, data=data, actor_id=actor.user_id, person_id=person_id)
    session.commit()
    return RedirectResponse(f"/people/{person_id}#notes", status_code=303)


@router.post("/people/{person_id}/activities")
async def log_activity(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    direction: Annotated[str, Form()] = "outbound",
    duration_minutes: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    try:
        data = ActivityCreate(
            kind=kind,  # type: ignore[arg-type]
            direction=direction,  # type: ignore[arg-type]
            outcome=outcome,
            duration_minutes=int(duration_minutes) if duration_minutes.strip() else None,
            notes=notes,
        )
    except ValidationError as error:
        field = ".".join(str(part) for part in error.errors()[0]["loc"]) or "activity"
        raise InvalidInput(field, error.errors()[0]["msg"])
    except ValueError:
        raise InvalidInput("duration_minutes", "is not a whole number of minutes")
    logged.log_activity(session=session, data=data, actor=actor, person_id=person_id)
    session.commit()
    return RedirectResponse(f"/people/{person_id}#timeline", status_code=303)


@router.post("/people/{person_id}/tasks")
async def add_task(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    title: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    due: Annotated[str, Form()] = "",
    assignee_id: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    due_at = due_date(due)
    assignee = int(assignee_id) if assignee_id.isdigit() else actor.user_id
    try:
        data = TaskCreate(title=title, assignee_id=assignee, due_at=due_at)
    except ValidationError:
        raise InvalidInput("title", "a task needs a title")
    activities.create_task(session=session, data=data, actor_id=actor.user_id, person_id=person_id)
    session.commit()
    return RedirectResponse(f"/people/{person_id}#tasks", status_code=303)


def due_date(value: str) -> datetime | None:
    """A form's due date (``YYYY-MM-DD``) as that day's midnight, UTC: My work buckets
    compare days in UTC (``customers.tasks``)."""
    if not value.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(value.strip()), time.min, tzinfo=UTC)
    except ValueError:
        raise InvalidInput("due", "is not a date (YYYY-MM-DD)")
