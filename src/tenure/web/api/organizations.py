"""Organizations (accounts): CRUD with filters and keyset paging, their people, notes, tasks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import Field

from tenure.customers import actions, activities, queries
from tenure.customers.schemas import (
    ActivityCreate,
    NoteCreate,
    NoteOut,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    PersonOut,
    TaskCreate,
    TaskOut,
)
from tenure.timeline.activities import log_activity as log_on_timeline
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam, PageOut, SearchParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.get("", response_model=PageOut[OrganizationOut])
async def list_organizations(
    session: SessionDep,
    actor: ApiActor,
    q: SearchParam = None,
    tag: str | None = None,
    owner_id: RowId | None = None,
    sort: Literal["name", "-name", "created_at", "-created_at", "id", "-id"] = "name",
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    page = queries.list_organizations(
        session, q=q, tag=tag, owner_id=owner_id, sort=sort, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("", response_model=OrganizationOut, status_code=status.HTTP_201_CREATED)
async def create_organization(
    body: OrganizationCreate, session: SessionDep, actor: ApiWriter
) -> dict:
    org = actions.create_organization(session=session, data=body, actor_id=actor.user_id)
    session.commit()
    return queries.organization_dict(org)


@router.get("/{organization_id}", response_model=OrganizationOut)
async def get_organization(organization_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return queries.organization_dict(queries.get_organization(session, organization_id))


@router.patch("/{organization_id}", response_model=OrganizationOut)
async def update_organization(
    organization_id: RowId, body: OrganizationUpdate, session: SessionDep, actor: ApiWriter
) -> dict:
    org = actions.update_organization(
        session=session, organization_id=organization_id, data=body, actor_id=actor.user_id
    )
    session.commit()
    return queries.organization_dict(org)


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(
    organization_id: RowId, session: SessionDep, actor: ApiWriter
) -> Response:
    actions.delete_organization(
        session=session, organization_id=organization_id, actor_id=actor.user_id
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{organization_id}/people", response_model=PageOut[PersonOut])
async def organization_people(
    organization_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    queries.get_organization(session, organization_id)
    page = queries.list_people(
        session,
        filters=queries.PeopleFilter(organization_id=organization_id),
        sort="last_name",
        cursor=cursor,
        limit=limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/{organization_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED
)
async def add_note(organization_id: RowId, body: NoteCreate, session: SessionDep, actor: ApiWriter):
    note = activities.add_note(
        session=session, data=body, actor_id=actor.user_id, organization_id=organization_id
    )
    session.commit()
    return note


@router.post(
    "/{organization_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED
)
async def create_task(
    organization_id: RowId, body: TaskCreate, session: SessionDep, actor: ApiWriter
):
    task = activities.create_task(
        session=session, data=body, actor_id=actor.user_id, organization_id=organization_id
    )
    session.commit()
    return task


class ActivityLogged(ActivityCreate):
    person_ids: list[int] = Field(description="The organization's people; each timeline holds it.")


@router.post(
    "/{organization_id}/activities",
    response_model=ActivityLogged,
    status_code=status.HTTP_201_CREATED,
)
async def log_activity(
    organization_id: RowId, body: ActivityCreate, session: SessionDep, actor: ApiWriter
):
    """Log a call, meeting or email with an organization: it lands on the timeline of each
    of its people (422 on organization_id when it has none)."""
    done = log_on_timeline(session=session, data=body, actor=actor, organization_id=organization_id)
    session.commit()
    return {**body.model_dump(), "person_ids": done.person_ids, "occurred_at": done.occurred_at}
