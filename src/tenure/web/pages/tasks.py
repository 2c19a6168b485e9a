"""My work: the tasks page (mine, or anyone's for admins and managers) and its actions:
complete, reopen, reassign and reschedule (``customers.activities.update_task``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.customers import activities, queries
from tenure.customers.schemas import TaskUpdate
from tenure.customers.tasks import (
    MAX_TASKS,
    PER_BUCKET,
    DueBucket,
    TaskStatus,
    bucket_counts,
    may_see_everyone,
    page_tasks,
    visible_assignee,
)
from tenure.errors import InvalidInput
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.pages.people import due_date
from tenure.web.security import verify_csrf
from tenure.web.templating import render
from tenure.workspace import clock
from tenure.workspace.settings import time_zone

router = APIRouter(include_in_schema=False)

BUCKETS = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("upcoming", "Upcoming"),
    ("done", "Done"),
)


def _back(next_url: str, fallback: str) -> str:
    # Only a path of this site: never an open redirect.
    return next_url if next_url.startswith("/") and not next_url.startswith("//") else fallback


@router.get("/tasks")
def tasks_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    assignee: str = "",
    status: str = "open",
    bucket: str = "",
    cursor: str = "",
) -> Response:
    everyone = assignee in ("all", "none")
    unassigned = assignee == "none"
    requested = int(assignee) if assignee.isdigit() else None
    assignee_id = visible_assignee(ctx.actor, requested, everyone)
    try:
        wanted_status = TaskStatus(status)
    except ValueError:
        raise InvalidInput("status", "is open, done or all")
    if bucket and bucket not in dict(BUCKETS):
        raise InvalidInput("bucket", "is overdue, today, upcoming or done")
    counts = bucket_counts(
        session, assignee_id=assignee_id, status=wanted_status, unassigned=unassigned
    )
    shown = []
    now = None
    next_cursor = None
    for key, label in BUCKETS:
        if not counts.get(key) or (bucket and key != bucket):
            continue
        page = page_tasks(
            session,
            assignee_id=assignee_id,
            status=TaskStatus.done if key == "done" else TaskStatus.open,
            due=None if key == "done" else DueBucket(key),
            unassigned=unassigned,
            # One bucket asked for: MAX_TASKS a page of it; all of them: the first few each.
            cursor=cursor or None if bucket else None,
            limit=MAX_TASKS if bucket else PER_BUCKET,
        )
        now, next_cursor = page.now, page.next_cursor if bucket else None
        shown.append((key, label, page.items, counts[key]))
    query = {"assignee": assignee, "status": wanted_status.value}
    return render(
        request,
        "tasks/list.html",
        ctx=ctx,
        buckets=shown,
        today=now or clock.now(session),
        users=queries.list_owners(session),
        assignees=queries.list_assignees(session),
        assignee=assignee if (everyone or requested is not None) else "",
        assignee_id=assignee_id,
        unassigned=unassigned,
        status=wanted_status.value,
        bucket=bucket,
        oversees=may_see_everyone(ctx.actor),
        count=sum(counts.values()),
        bucket_url=lambda key: "/tasks?" + urlencode({**query, "bucket": key}),
        next_url=next_cursor
        and "/tasks?" + urlencode({**query, "bucket": bucket, "cursor": next_cursor}),
        paged=bool(cursor),
        all_url="/tasks?" + urlencode(query),
    )


def _update(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    task_id: RowId,
    csrf_token: str,
    data: TaskUpdate,
    next_url: str,
) -> Response:
    verify_csrf(request, csrf_token)
    # update_task authorizes the actor (read-only roles get 403).
    activities.update_task(session=session, task_id=task_id, data=data, actor=actor)
    session.commit()
    return RedirectResponse(_back(next_url, "/tasks"), status_code=303)


@router.post("/tasks/{task_id}/done")
def complete_task(
    request: Request,
    task_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/tasks",
) -> Response:
    data = TaskUpdate(done=True)
    return _update(request, session, actor, task_id, csrf_token, data, next)


@router.post("/tasks/{task_id}/reopen")
def reopen_task(
    request: Request,
    task_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/tasks",
) -> Response:
    data = TaskUpdate(done=False)
    return _update(request, session, actor, task_id, csrf_token, data, next)


@router.post("/tasks/{task_id}/assign")
def reassign_task(
    request: Request,
    task_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
    assignee_id: Annotated[str, Form()],
    due: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/tasks",
) -> Response:
    if not assignee_id.isdigit():
        raise InvalidInput("assignee_id", "pick a user")
    fields: dict = {"assignee_id": int(assignee_id)}
    if due.strip():
        fields["due_at"] = due_date(due, time_zone(session))
    data = TaskUpdate(**fields)
    return _update(request, session, actor, task_id, csrf_token, data, next)
