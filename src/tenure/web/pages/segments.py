"""Segment pages: the list, the builder with a live count, and a segment with its members
and size over time.

The builder's live count calls ``GET /segments/preview`` (JSON, session-authenticated,
read-only, so it needs no CSRF token) as the user types; the JSON API's preview wants a
bearer token, which a page does not hold.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from tenure.all_tasks import NIGHTLY_CHAIN
from tenure.errors import InvalidInput
from tenure.identity.permissions import require_write
from tenure.jobs.queries import pending_tasks
from tenure.segments import actions, queries
from tenure.segments.fields import FIELD_NAMES
from tenure.segments.schemas import SegmentCreate, SegmentUpdate
from tenure.segments.syntax import FilterError
from tenure.validation import RowId, parse_row_id
from tenure.web.api.segments import filter_error_body
from tenure.web.deps import PageActor, PageWriter, SessionDep, SettingsDep, write_now
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render
from tenure.workspace.settings import currency

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EXAMPLES = (
    'tag = "vip" and count(order, last 90 days) >= 2',
    'rfm_segment in ("At risk", "Can\'t lose") and consent(email, marketing)',
    "sum(order.amount, last 365 days) > 500 and not last(email_opened) within 60 days",
    'attribute.plan = "pro" and organization.name ~ "acme"',
    'nps = "detractor" or churn_probability > 0.7',
)


def _person_ids(text: str) -> list[int]:
    ids = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        person_id = parse_row_id(part)
        if person_id is None:
            raise InvalidInput("person_ids", f"{part!r} is not a person id")
        ids.append(person_id)
    return ids


def _builder(request: Request, ctx: Any, *, status_code: int = 200, **values: Any) -> Response:
    form = {"name": "", "description": "", "kind": "dynamic", "filter": "", "person_ids": ""}
    form.update({k: v for k, v in values.items() if k in form and v is not None})
    return render(
        request,
        "segments/builder.html",
        status_code=status_code,
        ctx=ctx,
        form=form,
        segment=values.get("segment"),
        error=values.get("error"),
        fields=FIELD_NAMES,
        examples=EXAMPLES,
    )


@router.get("/segments")
def segments_list(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    actions.ensure_builtins(session)
    segments = [queries.segment_dict(s) for s in queries.list_segments(session)]
    computing = bool(pending_tasks(session, NIGHTLY_CHAIN[:3]))
    return render(request, "segments/list.html", ctx=ctx, segments=segments, computing=computing)


@router.get("/segments/new")
def new_segment(request: Request, ctx: PageCtx, filter: str = "") -> Response:
    require_write(ctx.actor)  # a form to save with: the "Not allowed" page says who may
    return _builder(request, ctx, filter=filter)


@router.get("/segments/preview")
def preview(
    session: SessionDep, settings: SettingsDep, actor: PageActor, filter: str = ""
) -> Response:
    """The live count of the builder: JSON, or a 422 with the position of the mistake."""
    try:
        result = queries.preview(session, filter=filter, currency=currency(session, settings))
    except FilterError as error:
        return JSONResponse(filter_error_body(error), status_code=422)
    return JSONResponse(jsonable_encoder(result))


def _error(error: InvalidInput) -> dict[str, Any]:
    body: dict[str, Any] = {"field": error.field, "reason": error.reason}
    if isinstance(error, FilterError):
        body["position"] = error.position
    return body


@router.post("/segments/new")
def create_segment(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageCtx,
    actor: PageWriter,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "dynamic",
    filter: Annotated[str, Form()] = "",
    person_ids: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "name": name,
        "description": description,
        "kind": kind,
        "filter": filter,
        "person_ids": person_ids,
    }
    try:
        try:
            data = SegmentCreate(
                name=name,
                description=description,
                kind=kind,  # type: ignore[arg-type]
                filter=filter if kind == "dynamic" else None,
                person_ids=_person_ids(person_ids) if kind == "static" else [],
            )
        except ValidationError as invalid:
            first = invalid.errors(include_url=False)[0]
            raise InvalidInput(str(first["loc"][0]), first["msg"])
        segment, _ = write_now(
            session,
            lambda: actions.create_segment(
                session=session,
                data=data,
                actor=actor,
                currency=currency(session, settings),
            ),
        )
    except InvalidInput as error:
        return _builder(request, ctx, status_code=422, error=_error(error), **values)
    return RedirectResponse(f"/segments/{segment.id}", status_code=303)


@router.get("/segments/{segment_id}")
def segment_page(
    request: Request,
    segment_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
) -> Response:
    segment = queries.get_segment(session, segment_id)
    page = queries.list_members(session, segment_id, cursor=cursor, limit=PAGE_SIZE)
    history = jsonable_encoder(queries.snapshots(session, segment_id))
    return render(
        request,
        "segments/detail.html",
        ctx=ctx,
        segment=queries.segment_dict(segment),
        members=page.items,
        next_cursor=page.next_cursor,
        is_first_page=cursor is None,
        history=history,
    )


@router.get("/segments/{segment_id}/edit")
def edit_segment(
    request: Request, segment_id: RowId, session: SessionDep, ctx: PageCtx
) -> Response:
    require_write(ctx.actor)
    segment = queries.segment_dict(queries.get_segment(session, segment_id))
    if segment["builtin"]:
        raise InvalidInput("segment", "built-in segments cannot be changed")
    return _builder(request, ctx, segment=segment, **segment)


@router.post("/segments/{segment_id}/edit")
def update_segment(
    request: Request,
    segment_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageCtx,
    actor: PageWriter,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    filter: Annotated[str, Form()] = "",
) -> Response:
    segment = queries.segment_dict(queries.get_segment(session, segment_id))
    try:
        try:
            data = SegmentUpdate(
                name=name,
                description=description,
                filter=filter if segment["kind"] == "dynamic" else None,
            )
        except ValidationError as invalid:
            first = invalid.errors(include_url=False)[0]
            raise InvalidInput(str(first["loc"][0]), first["msg"])
        write_now(
            session,
            lambda: actions.update_segment(
                session=session,
                segment_id=segment_id,
                data=data,
                actor=actor,
                currency=currency(session, settings),
            ),
        )
    except InvalidInput as error:
        values = {**segment, "name": name, "description": description, "filter": filter}
        return _builder(
            request, ctx, status_code=422, error=_error(error), segment=segment, **values
        )
    return RedirectResponse(f"/segments/{segment_id}", status_code=303)


@router.post("/segments/{segment_id}/refresh")
def refresh_segment(
    request: Request,
    segment_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageWriter,
) -> Response:
    write_now(
        session,
        lambda: actions.refresh_segment(
            session=session,
            segment_id=segment_id,
            currency=currency(session, settings),
            actor=actor,
        ),
    )
    return RedirectResponse(f"/segments/{segment_id}", status_code=303)


@router.post("/segments/{segment_id}/delete")
def delete_segment(
    request: Request,
    segment_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    actions.delete_segment(session=session, segment_id=segment_id, actor=actor)
    return RedirectResponse("/segments", status_code=303)


@router.post("/segments/{segment_id}/members")
def change_members(
    request: Request,
    segment_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    add: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    actions.change_members(
        session=session,
        segment_id=segment_id,
        add=_person_ids(add),
        remove=_person_ids(remove),
        actor=actor,
    )
    return RedirectResponse(f"/segments/{segment_id}#members", status_code=303)


@router.get("/segments/{segment_id}/export.csv")
def export_members(request: Request, segment_id: RowId, ctx: PageCtx) -> StreamingResponse:
    chunks = queries.export_members_csv(request.app.state.session_factory, segment_id)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
    )
