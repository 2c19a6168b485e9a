"""The person page (its cards come from ``tenure.profile``); the list of people, its
views and exports are in ``web.pages.people_views``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.customers import people, queries
from tenure.customers.schemas import ActivityCreate, NoteCreate, TaskCreate
from tenure.dedup.merge import survivor_of_merged
from tenure.errors import InvalidInput, NotFound
from tenure.identity.permissions import may
from tenure.profile.cards import load_cards, person_view
from tenure.segments.models import Segment, SegmentKind
from tenure.segments.queries import list_segments
from tenure.summaries.queries import person_360 as person_summary
from tenure.timeline import actions as logged
from tenure.timeline.queries import person_timeline
from tenure.timeline.story import CHANNEL_LABELS, TYPE_LABELS, tell
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageContext, PageCtx
from tenure.web.pages.person_form import FormError, PersonForm, form_choices
from tenure.web.security import verify_csrf
from tenure.web.templating import render
from tenure.workspace.settings import time_zone

router = APIRouter(include_in_schema=False)

#: The session key of the one-line notice the list shows after a write ("Deleted 2 people").
NOTICE = "people_notice"
#: The session key of the person page's one-line notice after a write on the whole person
#: ("Created Ada Lovelace."): the page looks the same before and after a save otherwise.
PERSON_NOTICE = "person_notice"


def static_lists(session: Session) -> list[Segment]:
    """The static lists the bulk bar can add people to."""
    return [s for s in list_segments(session) if s.kind == SegmentKind.static]


@router.get("/people/{person_id}")
def person_page(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
    type: str | None = None,
    channel: str | None = None,
) -> Response:
    try:
        summary = person_summary(session, person_id)  # the read model: one statement
    except NotFound:
        survivor_id = survivor_of_merged(session, person_id)
        if survivor_id is None:
            raise
        # 307, not 308: undoing the merge gives the id back, so browsers must not cache it.
        return RedirectResponse(f"/people/{survivor_id}", status_code=307)
    return render_person(
        request, session, ctx, summary, summary=summary, cursor=cursor, type=type, channel=channel
    )


def render_person(
    request: Request,
    session: Session,
    ctx: PageContext,
    person: dict[str, Any],
    *,
    cursor: str | None = None,
    type: str | None = None,
    channel: str | None = None,
    edit: PersonForm | None = None,
    error: FormError | None = None,
    status_code: int = 200,
    summary: dict[str, Any] | None = None,
) -> Response:
    """The person page of ``person`` (``customers.queries.get_person``); ``edit`` and
    ``error`` re-open the inline edit as it was submitted."""
    person_id = person["id"]
    events, next_cursor = person_timeline(
        session,
        person_id=person_id,
        types=[type] if type else [],
        channels=[channel] if channel else [],
        cursor=cursor,
        limit=50,
    )
    # One clock reading for every card: the cards capabilities registered (tenure.profile).
    view = person_view(session, person_id, summary or person_summary(session, person_id))
    can_edit = may(ctx.actor)
    return render(
        request,
        "people/detail.html",
        status_code=status_code,
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
        can_edit=can_edit,
        form=edit or PersonForm.from_person(person),
        error=error,
        notice=request.session.pop(PERSON_NOTICE, None),
        **(form_choices(session) if can_edit else {}),
        assignees=queries.list_assignees(session),
    )


@router.post("/people/{person_id}/notes")
def add_note(
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
    logged.add_note(session=session, data=data, actor=actor, person_id=person_id)
    return RedirectResponse(f"/people/{person_id}#notes", status_code=303)


@router.post("/people/{person_id}/activities")
def log_activity(
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
    return RedirectResponse(f"/people/{person_id}#timeline", status_code=303)


@router.post("/people/{person_id}/tasks")
def add_task(
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
    due_at = due_date(due, time_zone(session))
    assignee = int(assignee_id) if assignee_id.isdigit() else actor.user_id
    try:
        data = TaskCreate(title=title, assignee_id=assignee, due_at=due_at)
    except ValidationError:
        raise InvalidInput("title", "a task needs a title")
    people.create_task(session=session, data=data, actor=actor, person_id=person_id)
    return RedirectResponse(f"/people/{person_id}#tasks", status_code=303)


def due_date(value: str, zone: tzinfo = UTC) -> datetime | None:
    """A form's due date (``YYYY-MM-DD``) as that day's midnight in the workspace's time
    zone ``zone``: My work's buckets begin days there (``customers.tasks``)."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise InvalidInput("due", "is not a date (YYYY-MM-DD)")
