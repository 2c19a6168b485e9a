"""The people list as a view: filters, chosen columns and sort in the URL; saved views
(own and shared) from a menu; the current view exported as CSV or XLSX.

The URL is the one source of a view's state: opening a saved view redirects to the URL
holding its filters, columns and sort, so the export links and the pager carry the same.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from tenure.customers import queries
from tenure.customers.queries import PeopleFilter
from tenure.db.session import end_read
from tenure.errors import InvalidInput
from tenure.identity.permissions import VIEW_SHARERS, may
from tenure.lists import actions
from tenure.lists.columns import COLUMNS, parse_columns, parse_sort
from tenure.lists.export import FORMATS, MEDIA_TYPES, export_view
from tenure.lists.queries import View, view_page
from tenure.lists.views import as_view, filters_to_json, get_view, visible_views
from tenure.validation import RowId, parse_row_id
from tenure.web.deps import PageAccountWriter, PageActor, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.pages.people import NOTICE, static_lists
from tenure.web.templating import render
from tenure.workspace.settings import time_zone

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
Columns = Annotated[list[str] | None, Query()]


def view_from_params(
    q: str | None, tag: str | None, owner: str | None, columns: list[str] | None, sort: str | None
) -> View:
    return View(
        filters=PeopleFilter(q=q or None, tag=tag or None, owner_id=parse_row_id(owner)),
        columns=parse_columns(columns),
        sort=parse_sort(sort),
    )


def view_params(view: View, view_id: int | None = None) -> dict[str, Any]:
    """The query parameters that reopen ``view`` (empty values left out)."""
    filters = filters_to_json(view.filters)
    params: dict[str, Any] = {
        "q": filters["q"],
        "tag": filters["tag"],
        "owner": filters["owner_id"],
        "columns": ",".join(view.columns),
        "sort": view.sort.param,
        "view": view_id,
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


def view_url(path: str, view: View, view_id: int | None = None, **extra: Any) -> str:
    return path + "?" + urlencode({**view_params(view, view_id), **extra})


@router.get("/people")
def people_list(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    q: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    columns: Columns = None,
    sort: str | None = None,
    cursor: str | None = None,
    view: str | None = None,
) -> Response:
    view_id = parse_row_id(view)
    if view_id is not None and not any((q, tag, owner, columns, sort, cursor)):
        saved = get_view(session, ctx.actor, view_id)
        return RedirectResponse(view_url("/people", as_view(saved), saved.id), status_code=303)
    current = view_from_params(q, tag, owner, columns, sort)
    page = view_page(session, current, cursor=cursor, limit=PAGE_SIZE)
    views = visible_views(session, ctx.actor)
    return render(
        request,
        "people/list.html",
        ctx=ctx,
        people=page.rows,
        next_cursor=page.next_cursor,
        q=q or "",
        tag=tag or "",
        owner_id=current.filters.owner_id,
        is_first_page=cursor is None,
        tags=queries.list_tag_names(session),
        owners=queries.list_owners(session),
        view=current,
        view_id=view_id,
        view_name=next((v.name for v in views if v.id == view_id), None),
        views=views,
        columns=[COLUMNS[key] for key in current.columns],
        all_columns=list(COLUMNS.values()),
        params=view_params(current, view_id),
        url=lambda **extra: view_url("/people", current, view_id, **extra),
        export_url=lambda fmt: view_url(f"/people/export.{fmt}", current),
        may_share=may(ctx.actor, VIEW_SHARERS),
        can_edit=may(ctx.actor),
        static_lists=static_lists(session) if may(ctx.actor) else [],
        notice=request.session.pop(NOTICE, None),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/people/export.{format}")
def export_people_view(
    request: Request,
    format: str,
    session: SessionDep,
    actor: PageActor,
    q: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    columns: Columns = None,
    sort: str | None = None,
) -> StreamingResponse:
    """The current view, every row, in its columns and order."""
    if format not in FORMATS:
        raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}")
    current = view_from_params(q, tag, owner, columns, sort)
    tz = time_zone(session)
    end_read(session)  # the export reads in short sessions of its own
    chunks = export_view(request.app.state.session_factory, current, format=format, tz=tz)
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="people.{format}"'},
    )


@router.post("/people/views")
def save_view(
    session: SessionDep,
    actor: PageAccountWriter,
    name: Annotated[str, Form()],
    q: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    columns: Annotated[str, Form()] = "",
    sort: Annotated[str, Form()] = "",
    shared: Annotated[str, Form()] = "",
) -> Response:
    current = view_from_params(q, tag, owner, [columns] if columns else None, sort)
    saved = actions.save_view(
        session=session, actor=actor, name=name, view=current, shared=shared == "1"
    )
    return RedirectResponse(view_url("/people", current, saved.id), status_code=303)


@router.post("/people/views/{view_id}/delete")
def delete_view(view_id: RowId, session: SessionDep, actor: PageAccountWriter) -> Response:
    actions.delete_view(session=session, actor=actor, view_id=view_id)
    return RedirectResponse("/people", status_code=303)
