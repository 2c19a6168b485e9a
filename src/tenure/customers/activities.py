"""Notes and tasks attached to a person or an organization."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Note, Organization, Person, Task
from tenure.customers.schemas import NoteCreate, TaskCreate, TaskUpdate
from tenure.customers.summaries import mark_stale
from tenure.errors import InvalidInput, NotFound
from tenure.identity.audit import diff_fields, record_audit
from tenure.identity.models import Role, User
from tenure.identity.permissions import READ_ONLY_ROLES, Actor, authorize
from tenure.workspace import clock


def _check_parent(session: Session, person_id: int | None, organization_id: int | None) -> None:
    # Existence only: loading the person (with its eager relationships) cost 10 ms a
    # task when a workflow creates thousands.
    if (
        person_id is not None
        and session.scalar(select(Person.id).where(Person.id == person_id)) is None
    ):
        raise NotFound("person", person_id)
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise NotFound("organization", organization_id)


def add_note(
    *,
    session: Session,
    data: NoteCreate,
    actor_id: int | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Note:
    _check_parent(session, person_id, organization_id)
    note = Note(
        person_id=person_id,
        organization_id=organization_id,
        author_id=actor_id,
        body=data.body,
        created_at=clock.now(session),
    )
    session.add(note)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="note",
        entity_id=note.id,
        changes=diff_fields(
            {}, {"person_id": person_id, "organization_id": organization_id, "body": data.body}
        ),
    )
    return note


def _check_assignee(session: Session, user_id: int | None) -> None:
    """A task goes to a user who can act on it: never to a read-only role."""
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput("assignee_id", f"no user {user_id}")
    if Role(user.role) in READ_ONLY_ROLES:
        raise InvalidInput(
            "assignee_id", f"{user.email} has the read-only role {user.role}: they cannot do tasks"
        )


def create_task(
    *,
    session: Session,
    data: TaskCreate,
    actor_id: int | None,
    person_id: int | None = None,
    organization_id: int | None = None,
) -> Task:
    _check_parent(session, person_id, organization_id)
    _check_assignee(session, data.assignee_id)
    if data.due_at is not None and data.due_at.tzinfo is None:
        raise InvalidInput("due_at", "needs a timezone offset")
    task = Task(
        person_id=person_id,
        organization_id=organization_id,
        title=data.title,
        description=data.description,
        assignee_id=data.assignee_id,
        created_by_id=actor_id,
        due_at=data.due_at,
        created_at=clock.now(session),
    )
    session.add(task)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="task",
        entity_id=task.id,
        changes=diff_fields({}, {"person_id": person_id, **data.model_dump(mode="json")}),
    )
    mark_stale(session, [person_id])
    return task


def create_person_tasks(
    *, session: Session, items: Sequence[tuple[int, TaskCreate]], actor_id: int | None
) -> list[Task]:
    """``create_task`` for many (person, task) at once, in the caller's transaction: one
    query checks the people, one the assignees, one flush writes the tasks (a workflow's
    batch of create_task steps). Audited one entry per task, like ``create_task``."""
    if not items:
        return []
    people = {person_id for person_id, _ in items}
    found = set(session.scalars(select(Person.id).where(Person.id.in_(people))))
    missing = sorted(people - found)
    if missing:
        raise NotFound("person", missing[0])
    assignees = {data.assignee_id for _, data in items if data.assignee_id is not None}
    if assignees:
        roles = {
            user_id: role
            for user_id, role in session.execute(
                select(User.id, User.role).where(User.id.in_(assignees))
            )
        }
        for user_id in assignees:
            role = roles.get(user_id)
            if role is None or Role(role) in READ_ONLY_ROLES:
                _check_assignee(session, user_id)  # raises with the reason
    now = clock.now(session)
    for _, data in items:
        if data.due_at is not None and data.due_at.tzinfo is None:
            raise InvalidInput("due_at", "needs a timezone offset")
    tasks = [
        Task(
            person_id=person_id,
            organization_id=None,
            title=data.title,
            description=data.description,
            assignee_id=data.assignee_id,
            created_by_id=actor_id,
            due_at=data.due_at,
            created_at=now,
        )
        for person_id, data in items
    ]
    session.add_all(tasks)
    session.flush()
    for task, (person_id, data) in zip(tasks, items, strict=True):
        record_audit(
            session=session,
            actor_id=actor_id,
            action="create",
            entity_type="task",
            entity_id=task.id,
            changes=diff_fields({}, {"person_id": person_id, **data.model_dump(mode="json")}),
        )
    return tasks


def complete_task(*, session: Session, task_id: int, actor_id: int | None) -> Task:
    task = session.scalar(select(Task).where(Task.id == task_id))
    if task is None:
        raise NotFound("task", task_id)
    if task.done_at is None:
        task.done_at = clock.now(session)
        session.flush()
        record_audit(
            session=session,
            actor_id=actor_id,
            action="update",
            entity_type="task",
            entity_id=task.id,
            changes={"done_at": {"before": None, "after": task.done_at.isoformat()}},
        )
        mark_stale(session, [task.person_id])
    return task


def update_task(*, session: Session, task_id: int, data: TaskUpdate, actor: Actor | None) -> Task:
    """Rename, reassign, reschedule, complete or reopen a task; audited when anything changed.

    Any writer may change any task (a rep reassigns to a colleague); read-only roles and
    read-scoped tokens are refused by ``authorize``.
    """
    actor_id = authorize(actor)
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task", task_id)
    given = data.model_fields_set
    if "title" in given and data.title is None:
        raise InvalidInput("title", "a task needs a title")
    _check_assignee(session, data.assignee_id)
    if data.due_at is not None and data.due_at.tzinfo is None:
        raise InvalidInput("due_at", "needs a timezone offset")
    if "done" in given and data.done is None:
        raise InvalidInput("done", "is true (complete) or false (reopen)")
    before = _task_snapshot(task)
    if data.title is not None:
        task.title = data.title
    if "assignee_id" in given:
        task.assignee_id = data.assignee_id
    if "due_at" in given:
        task.due_at = data.due_at
    if data.done is True and task.done_at is None:
        task.done_at = clock.now(session)
    elif data.done is False:
        task.done_at = None
    changes = diff_fields(before, _task_snapshot(task))
    if changes:
        session.flush()
        record_audit(
            session=session,
            actor_id=actor_id,
            action="update",
            entity_type="task",
            entity_id=task.id,
            changes=changes,
        )
        mark_stale(session, [task.person_id])
    return task


def _task_snapshot(task: Task) -> dict:
    return {
        "title": task.title,
        "assignee_id": task.assignee_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "done_at": task.done_at.isoformat() if task.done_at else None,
    }
