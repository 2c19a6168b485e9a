"""My work: the tasks of one assignee (or everyone's), in due buckets judged by the clock.

Buckets compare the task's due time with the workspace's today: the day the workspace
clock (``workspace.clock``) is in, in the workspace's time zone (``workspace.settings``),
from its local midnight to the next. *overdue* is due before today, *today* is due today,
*upcoming* is due later or has no due date. Done tasks have the bucket *done*.

Lists page by keyset (``cursor``, ``limit``): soonest due first, undated last, then by id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from tenure.customers.models import Organization, Person, Task
from tenure.db.paging import INVALID_CURSOR, decode_cursor, encode_cursor
from tenure.errors import InvalidInput, PermissionDenied
from tenure.identity.models import User
from tenure.identity.permissions import TASK_OVERSEERS, Actor
from tenure.workspace import clock
from tenure.workspace.settings import time_zone

MAX_TASKS = 500
#: Tasks shown per bucket on My work before "Show all": 500 rows of forms took 0.9 s.
PER_BUCKET = 50


class TaskStatus(enum.StrEnum):
    open = "open"
    done = "done"
    all = "all"


class DueBucket(enum.StrEnum):
    overdue = "overdue"
    today = "today"
    upcoming = "upcoming"


@dataclass(frozen=True)
class DayBounds:
    """The local midnight starting the workspace's today and the one starting tomorrow
    (as UTC instants: a day of a zone changing its clocks lasts 23 or 25 hours)."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, now: datetime, zone: tzinfo = UTC) -> DayBounds:
        day = now.astimezone(zone).date()
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        return cls(start.astimezone(UTC), end.astimezone(UTC))

    @classmethod
    def today(cls, session: Session) -> DayBounds:
        """The workspace's today: its clock's day in its time zone."""
        return cls.of(clock.now(session), time_zone(session))


@dataclass(frozen=True)
class TaskPage:
    items: list[dict[str, Any]]
    #: The workspace's now that judged the buckets.
    now: datetime
    #: Where the next page starts; None on the last page.
    next_cursor: str | None


def may_see_everyone(actor: Actor) -> bool:
    return actor.role in TASK_OVERSEERS


def visible_assignee(actor: Actor, requested: int | None, everyone: bool) -> int | None:
    """The assignee filter ``actor`` may use: ``None`` means everyone's tasks.

    Admins and managers see any assignee or everyone; other roles only their own tasks.
    """
    if everyone and requested is None:
        if not may_see_everyone(actor):
            raise PermissionDenied("only admins and managers see everyone's tasks")
        return None
    wanted = actor.user_id if requested is None else requested
    if wanted != actor.user_id and not may_see_everyone(actor):
        raise PermissionDenied("only admins and managers see other users' tasks")
    return wanted


def bucket_of(task_due: datetime | None, done: bool, day: DayBounds) -> str:
    if done:
        return "done"
    if task_due is None or task_due >= day.end:
        return DueBucket.upcoming.value
    return DueBucket.overdue.value if task_due < day.start else DueBucket.today.value


def _filtered(
    query: Any,
    *,
    assignee_id: int | None,
    status: TaskStatus,
    due: DueBucket | None,
    day: DayBounds,
    unassigned: bool = False,
) -> Any:
    if unassigned:
        query = query.where(Task.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    if status == TaskStatus.open:
        query = query.where(Task.done_at.is_(None))
    elif status == TaskStatus.done:
        query = query.where(Task.done_at.is_not(None))
    if due == DueBucket.overdue:
        query = query.where(Task.due_at < day.start)
    elif due == DueBucket.today:
        query = query.where(Task.due_at >= day.start, Task.due_at < day.end)
    elif due == DueBucket.upcoming:
        query = query.where((Task.due_at >= day.end) | Task.due_at.is_(None))
    return query


def _after(cursor: str) -> Any:
    """Rows after ``cursor`` in the order (undated last, due_at, id)."""
    after = decode_cursor(cursor)
    if after.value is None:
        return Task.due_at.is_(None) & (Task.id > after.id)
    if not isinstance(after.value, datetime):
        raise InvalidInput("cursor", INVALID_CURSOR)
    return (
        Task.due_at.is_(None)
        | (Task.due_at > after.value)
        | ((Task.due_at == after.value) & (Task.id > after.id))
    )


def page_tasks(
    session: Session,
    *,
    assignee_id: int | None,
    status: TaskStatus = TaskStatus.open,
    due: DueBucket | None = None,
    unassigned: bool = False,
    cursor: str | None = None,
    limit: int = MAX_TASKS,
) -> TaskPage:
    """One page of tasks (with their person, organization, assignee and creator names),
    soonest due first, undated last. ``unassigned`` keeps the tasks nobody has
    (``assignee_id`` is then ignored)."""
    now = clock.now(session)
    day = DayBounds.of(now, time_zone(session))
    assignee = aliased(User)
    creator = aliased(User)
    query = (
        select(
            Task,
            Person.first_name,
            Person.last_name,
            Organization.name.label("organization_name"),
            assignee.name.label("assignee_name"),
            assignee.email.label("assignee_email"),
            creator.name.label("creator_name"),
            creator.email.label("creator_email"),
        )
        .outerjoin(Person, Person.id == Task.person_id)
        .outerjoin(Organization, Organization.id == Task.organization_id)
        .outerjoin(assignee, assignee.id == Task.assignee_id)
        .outerjoin(creator, creator.id == Task.created_by_id)
        # Due dates first (soonest first), undated last, then oldest first.
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(_after(cursor))
    query = _filtered(
        query, assignee_id=assignee_id, status=status, due=due, day=day, unassigned=unassigned
    )
    fetched = session.execute(query).all()
    rows = []
    for row in fetched[:limit]:
        task: Task = row[0]
        first, last, org_name, assignee_name, assignee_email, creator_name, creator_email = row[1:]
        person_name = f"{first or ''} {last or ''}".strip()
        rows.append(
            {
                "id": task.id,
                "title": task.title,
                "description": task.description,
                "person_id": task.person_id,
                "person_name": person_name
                or (f"person {task.person_id}" if task.person_id else None),
                "organization_id": task.organization_id,
                "organization_name": org_name,
                "assignee_id": task.assignee_id,
                "assignee_name": assignee_name or assignee_email,
                "due_at": task.due_at,
                "done_at": task.done_at,
                "created_at": task.created_at,
                "created_by_id": task.created_by_id,
                "created_by": creator_name or creator_email,
                "bucket": bucket_of(task.due_at, task.done_at is not None, day),
            }
        )
    next_cursor = None
    if len(fetched) > limit and rows:
        last_task = rows[-1]
        next_cursor = encode_cursor(last_task["due_at"], last_task["id"])
    return TaskPage(rows, now, next_cursor)


def list_tasks(
    session: Session,
    *,
    assignee_id: int | None,
    status: TaskStatus = TaskStatus.open,
    due: DueBucket | None = None,
    unassigned: bool = False,
    limit: int = MAX_TASKS,
) -> tuple[list[dict[str, Any]], datetime]:
    """The first ``limit`` tasks of ``page_tasks`` and the workspace's now; for callers
    that show a count beside them (My work's buckets, Home)."""
    page = page_tasks(
        session,
        assignee_id=assignee_id,
        status=status,
        due=due,
        unassigned=unassigned,
        limit=limit,
    )
    return page.items, page.now


def bucket_counts(
    session: Session, *, assignee_id: int | None, status: TaskStatus, unassigned: bool = False
) -> dict[str, int]:
    """How many tasks each bucket holds (``done`` included), counted in one statement."""
    day = DayBounds.today(session)
    bucket = case(
        (Task.done_at.is_not(None), "done"),
        (Task.due_at.is_(None) | (Task.due_at >= day.end), DueBucket.upcoming.value),
        (Task.due_at < day.start, DueBucket.overdue.value),
        else_=DueBucket.today.value,
    )
    query = select(bucket, func.count()).group_by(bucket)
    query = _filtered(
        query, assignee_id=assignee_id, status=status, due=None, day=day, unassigned=unassigned
    )
    return {str(name): int(count) for name, count in session.execute(query)}


def due_count(session: Session, user_id: int) -> int:
    """The top bar's badge: open tasks of ``user_id`` due today or overdue."""
    day = DayBounds.today(session)
    query = select(func.count()).where(
        Task.assignee_id == user_id, Task.done_at.is_(None), Task.due_at < day.end
    )
    return int(session.scalar(query) or 0)


def with_creators(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (dicts with a task ``id``) with each task's ``created_by`` (name, else
    email; None when no user created it) and ``created_at``, read in one query."""
    ids = [row["id"] for row in rows]
    if not ids:
        return rows
    query = (
        select(Task.id, Task.created_at, User.name, User.email)
        .outerjoin(User, User.id == Task.created_by_id)
        .where(Task.id.in_(ids))
    )
    found = {task_id: (name or email, at) for task_id, at, name, email in session.execute(query)}
    return [
        {**row, "created_by": found[row["id"]][0], "created_at": found[row["id"]][1]}
        for row in rows
        if row["id"] in found
    ]
