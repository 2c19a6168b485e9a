"""Organization pages: the list and an organization with its people."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tenure.customers import queries
from tenure.validation import RowId
from tenure.web.deps import SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/organizations")
async def organizations_list(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    page = queries.list_organizations(session, q=q or None, cursor=cursor, limit=50)
    return render(
        request,
        "organizations/list.html",
        ctx=ctx,
        organizations=page.items,
        next_cursor=page.next_cursor,
        q=q or "",
    )


@router.get("/organizations/{organization_id}")
async def organization_page(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
) -> Response:
    org = queries.get_organization(session, organization_id)
    people = queries.list_people(
        session,
        filters=queries.PeopleFilter(organization_id=organization_id),
        sort="last_name",
        cursor=cursor,
        limit=100,
    )
    return render(
        request,
        "organizations/detail.html",
        ctx=ctx,
        org=queries.organization_dict(org),
        people=people.items,
        next_cursor=people.next_cursor,
        notes=queries.notes_for(session, organization_id=organization_id),
        tasks=queries.tasks_for(session, organization_id=organization_id),
    )
