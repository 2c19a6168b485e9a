"""Tasks across people and organizations: My work's list and its one write (PATCH)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tenure.customers import activities
from tenure.customers.schemas import TaskOut, TaskUpdate
from tenure.customers.tasks import DueBucket, TaskStatus, page_tasks, visible_assignee
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam
from tenure.web.deps import ApiActor, SessionDep

router = APIRouter(prefix="/tasks", tags=["tasks"])


class TaskRow(TaskOut):
    person_name: str | None
    organization_name: str | None
    assignee_name: str | None
    bucket: str


class TaskList(BaseModel):
    items: list[TaskRow]
    today: datetime
    next_cursor: str | None


@router.get("", response_model=TaskList)
def get_tasks(
    session: SessionDep,
    actor: ApiActor,
    assignee_id: Annotated[
        RowId | None, Query(description="Whose tasks; yours if omitted (others: admins, managers)")
    ] = None,
    everyone: Annotated[bool, Query(description="Every assignee (admins and managers)")] = False,
    status: TaskStatus = TaskStatus.open,
    due: Annotated[
        DueBucket | None, Query(description="overdue, today or upcoming (workspace clock)")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict:
    """Tasks soonest due first (undated last), each with its bucket (overdue, today,
    upcoming, done: the workspace clock's day in the workspace's time zone) and creator;
    keyset-paged: pass ``next_cursor`` back as ``cursor`` until it is null."""
    assignee = visible_assignee(actor, assignee_id, everyone)
    page = page_tasks(
        session, assignee_id=assignee, status=status, due=due, cursor=cursor, limit=limit
    )
    return {"items": page.items, "today": page.now, "next_cursor": page.next_cursor}


@router.patch("/{task_id}", response_model=TaskOut)
def update_task(task_id: RowId, body: TaskUpdate, session: SessionDep, actor: ApiActor):
    """Rename, reassign (assignee_id), reschedule (due_at), complete (done=true) or reopen
    (done=false); read-only roles and read-scoped tokens get 403."""
    task = activities.update_task(session=session, task_id=task_id, data=body, actor=actor)
    session.commit()
    return task
