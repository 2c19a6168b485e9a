"""Organizations (accounts): the list with roll-ups, create, update, delete, their people,
timeline, notes, tasks and logged activities. Each write calls one action, which commits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from tenure.customers import organizations as org_actions
from tenure.customers import queries
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
from tenure.profile import organizations as views
from tenure.timeline import actions as timeline_actions
from tenure.timeline.queries import organization_timeline
from tenure.timeline.schemas import EventOut
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam, PageOut, SearchParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(prefix="/organizations", tags=["organizations"])


class Money(BaseModel):
    currency: str | None
    amount_minor: int


class OrganizationRollup(OrganizationOut):
    """The organization with its roll-up, computed in the database as of the workspace's
    today: people, net revenue of their orders per currency (all time and the last 30
    days), open tasks on it or its people, and the newest event of it or its people."""

    owner: str | None = Field(description="The owner's name (or email).")
    people: int
    revenue: list[Money]
    revenue_last_30_days: list[Money]
    open_tasks: int
    last_activity_at: datetime | None


class OrganizationEventOut(EventOut):
    person_name: str | None = Field(description="Whose event it is; null for the org's own.")


class OrganizationTimeline(BaseModel):
    items: list[OrganizationEventOut]
    next_cursor: str | None


class ActivityLogged(ActivityCreate):
    organization_id: int = Field(description="The organization whose timeline holds it.")


@router.get("", response_model=PageOut[OrganizationRollup])
def list_organizations(
    session: SessionDep,
    actor: ApiActor,
    q: SearchParam = None,
    tag: str | None = None,
    owner_id: RowId | None = None,
    sort: Literal["name", "-name", "created_at", "-created_at", "id", "-id"] = "name",
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    """Organizations with their roll-ups; ``q`` matches the name or the domain."""
    items, next_cursor = views.list_organizations(
        session, q=q, tag=tag, owner_id=owner_id, sort=sort, cursor=cursor, limit=limit
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post("", response_model=OrganizationOut, status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationCreate, session: SessionDep, actor: ApiWriter) -> dict:
    """422 names the field (``domain`` not a domain name, ``owner_id`` no such user); 409 on
    ``domain`` when another organization has it."""
    org = org_actions.create_organization(session=session, data=body, actor=actor)
    return queries.organization_dict(org)


@router.get("/{organization_id}", response_model=OrganizationRollup)
def get_organization(organization_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return views.organization_summary(session, organization_id)


@router.patch("/{organization_id}", response_model=OrganizationOut)
def update_organization(
    organization_id: RowId, body: OrganizationUpdate, session: SessionDep, actor: ApiWriter
) -> dict:
    org = org_actions.update_organization(
        session=session, organization_id=organization_id, data=body, actor=actor
    )
    return queries.organization_dict(org)


@router.delete("/{organization_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_organization(organization_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    """Deletes its notes, tasks and own timeline too; its people stay, without it."""
    org_actions.delete_organization(session=session, organization_id=organization_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{organization_id}/people", response_model=PageOut[PersonOut])
def organization_people(
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


@router.get("/{organization_id}/timeline", response_model=OrganizationTimeline)
def timeline(
    organization_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    """Its own events (logged activities, notes) and its people's, newest first."""
    items, next_cursor = organization_timeline(
        session, organization_id=organization_id, types=type or (), cursor=cursor, limit=limit
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/{organization_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED
)
def add_note(organization_id: RowId, body: NoteCreate, session: SessionDep, actor: ApiWriter):
    """The note, and a ``note_added`` event on the organization's timeline."""
    return timeline_actions.add_note(
        session=session, data=body, actor=actor, organization_id=organization_id
    )


@router.post(
    "/{organization_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED
)
def create_task(organization_id: RowId, body: TaskCreate, session: SessionDep, actor: ApiWriter):
    """A task on the organization; the assignee finds it on their My work page."""
    return org_actions.create_organization_task(
        session=session, organization_id=organization_id, data=body, actor=actor
    )


@router.post(
    "/{organization_id}/activities",
    response_model=ActivityLogged,
    status_code=status.HTTP_201_CREATED,
)
def log_activity(
    organization_id: RowId, body: ActivityCreate, session: SessionDep, actor: ApiWriter
):
    """Log a call, meeting or email with an organization: one event on its own timeline."""
    done = timeline_actions.log_activity(
        session=session, data=body, actor=actor, organization_id=organization_id
    )
    return {
        **body.model_dump(),
        "organization_id": organization_id,
        "occurred_at": done.occurred_at,
    }
