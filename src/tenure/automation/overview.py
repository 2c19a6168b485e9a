"""Reads for the workflow pages: the list with its counts, who is where, a person's
workflows. Counts are grouped in SQL; only a page of people comes back as rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from tenure.automation.definition import (
    BranchStep,
    Definition,
    ExitStep,
    SplitStep,
    WaitForEventStep,
)
from tenure.automation.models import (
    Enrolment,
    EnrolmentState,
    EnrolmentStep,
    StepState,
    Workflow,
    WorkflowVersion,
)
from tenure.automation.report import conversion_by_workflow
from tenure.automation.timing import HOLDOUT_STEP
from tenure.automation.wording import names_for, step_text
from tenure.customers.models import Person
from tenure.errors import NotFound

RECENT_DAYS = 30
PEOPLE_PAGE = 100


def get_workflow(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound("workflow", workflow_id)
    return workflow


def parse_draft(draft: dict[str, Any]) -> tuple[Definition | None, list[str]]:
    """The draft as a definition, or the reasons it is not one yet (in words)."""
    try:
        return Definition.model_validate(draft), []
    except ValidationError as invalid:
        reasons = []
        for error in invalid.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            reasons.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
        return None, reasons


def version_numbers(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(WorkflowVersion.id, WorkflowVersion.number).where(WorkflowVersion.id.in_(ids))
    )
    return {version_id: number for version_id, number in rows}


def list_workflows(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every workflow with its version, people active (not held out) and entered lately."""
    workflows = list(session.scalars(select(Workflow).order_by(Workflow.name)))
    recent = now - timedelta(days=RECENT_DAYS)
    active_in_workflow = and_(
        Enrolment.state == EnrolmentState.active.value, Enrolment.holdout.is_(False)
    )
    counts = {
        workflow_id: (int(active or 0), int(entered or 0))
        for workflow_id, active, entered in session.execute(
            select(
                Enrolment.workflow_id,
                func.sum(case((active_in_workflow, 1), else_=0)),
                func.sum(case((Enrolment.entered_at > recent, 1), else_=0)),
            ).group_by(Enrolment.workflow_id)
        )
    }
    numbers = version_numbers(
        session, [w.published_version_id for w in workflows if w.published_version_id]
    )
    rates = conversion_by_workflow(session, workflows)
    return [
        {
            "id": w.id,
            "name": w.name,
            "description": w.description,
            "status": w.status,
            "version": numbers.get(w.published_version_id) if w.published_version_id else None,
            "active": counts.get(w.id, (0, 0))[0],
            "entered_recently": counts.get(w.id, (0, 0))[1],
            "conversion": rates.get(w.id),
            "updated_at": w.updated_at,
        }
        for w in workflows
    ]


def _definitions(session: Session, version_ids: set[int]) -> dict[int, Definition]:
    if not version_ids:
        return {}
    rows = session.execute(
        select(WorkflowVersion.id, WorkflowVersion.definition).where(
            WorkflowVersion.id.in_(version_ids)
        )
    )
    return {version_id: Definition.model_validate(doc) for version_id, doc in rows}


def _following(definition: Definition | None, step_id: str | None) -> str | None:
    """The step after ``step_id`` when it does not branch (None after the last or when
    the way on depends on the person)."""
    if definition is None or step_id is None:
        return None
    try:
        step = definition.step(step_id)
    except KeyError:
        return None
    if isinstance(step, BranchStep | SplitStep | WaitForEventStep | ExitStep):
        return None
    return step.next or definition.after(step_id)


def _describe(session: Session, definitions: dict[int, Definition]) -> Any:
    """A function (version id, step id) -> "3. Wait 3 days", names looked up once."""
    cache: dict[int, tuple[dict[str, int], Any]] = {}

    def describe(version_id: int, step_id: str | None) -> str | None:
        if step_id is None:
            return None
        definition = definitions.get(version_id)
        if definition is None:
            return step_id
        if version_id not in cache:
            number = {s.id: i + 1 for i, s in enumerate(definition.steps)}
            cache[version_id] = (number, names_for(session, definition))
        number, names = cache[version_id]
        try:
            step = definition.step(step_id)
        except KeyError:
            return step_id
        return f"{number[step_id]}. {step_text(step, names, number)}"

    return describe


def _pending(session: Session, enrolment_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """Each enrolment's pending step and when it is due."""
    if not enrolment_ids:
        return {}
    rows = session.execute(
        select(EnrolmentStep.enrolment_id, EnrolmentStep.step_id, EnrolmentStep.due_at)
        .where(
            EnrolmentStep.enrolment_id.in_(enrolment_ids),
            EnrolmentStep.state == StepState.pending.value,
        )
        .order_by(EnrolmentStep.due_at)
    )
    pending: dict[int, tuple[str, datetime]] = {}
    for enrolment_id, step_id, due_at in rows:
        pending.setdefault(enrolment_id, (step_id, due_at))
    return pending


def enrolment_rows(session: Session, enrolments: list[Any]) -> list[dict[str, Any]]:
    """Enrolments (with ``person_name`` and ``workflow_name`` columns) in words."""
    definitions = _definitions(session, {e.version_id for e in enrolments})
    describe = _describe(session, definitions)
    pending = _pending(session, [e.id for e in enrolments])
    rows = []
    for e in enrolments:
        due = pending.get(e.id)
        current = None if e.current_step == HOLDOUT_STEP else e.current_step
        following = _following(definitions.get(e.version_id), current)
        rows.append(
            {
                "id": e.id,
                "workflow_id": e.workflow_id,
                "workflow_name": e.workflow_name,
                "person_id": e.person_id,
                "person_name": e.person_name.strip() or f"Person #{e.person_id}",
                "state": e.state,
                "holdout": e.holdout,
                "current_step": describe(e.version_id, current),
                "next_step": describe(e.version_id, following),
                "due_at": due[1] if due and e.state == EnrolmentState.active.value else None,
                "entered_at": e.entered_at,
                "ended_at": e.ended_at,
                "end_reason": e.end_reason,
            }
        )
    return rows


def _enrolment_select() -> Any:
    name = func.coalesce(Person.first_name, "") + " " + func.coalesce(Person.last_name, "")
    return (
        select(
            Enrolment.id,
            Enrolment.workflow_id,
            Enrolment.version_id,
            Enrolment.person_id,
            Enrolment.state,
            Enrolment.holdout,
            Enrolment.current_step,
            Enrolment.entered_at,
            Enrolment.ended_at,
            Enrolment.end_reason,
            name.label("person_name"),
            Workflow.name.label("workflow_name"),
        )
        .join(Person, Person.id == Enrolment.person_id)
        .join(Workflow, Workflow.id == Enrolment.workflow_id)
    )


def workflow_people(
    session: Session,
    workflow_id: int,
    *,
    state: str | None = "active",
    step: str | None = None,
    limit: int = PEOPLE_PAGE,
) -> dict[str, Any]:
    """Who is in a workflow (newest entries first), by state and step."""
    get_workflow(session, workflow_id)
    query = _enrolment_select().where(Enrolment.workflow_id == workflow_id)
    counted = (
        select(func.count()).select_from(Enrolment).where(Enrolment.workflow_id == workflow_id)
    )
    if state:
        query = query.where(Enrolment.state == state)
        counted = counted.where(Enrolment.state == state)
    if step:
        query = query.where(Enrolment.current_step == step)
        counted = counted.where(Enrolment.current_step == step)
    total = session.scalar(counted) or 0
    enrolments = session.execute(
        query.order_by(Enrolment.entered_at.desc(), Enrolment.id.desc()).limit(limit)
    ).all()
    return {"total": int(total), "people": enrolment_rows(session, list(enrolments))}


def person_workflows(session: Session, person_id: int, *, ended: int = 5) -> dict[str, Any]:
    """A person's active enrolments and their last few ended ones."""
    query = _enrolment_select().where(Enrolment.person_id == person_id)
    active = session.execute(
        query.where(Enrolment.state == EnrolmentState.active.value).order_by(
            Enrolment.entered_at.desc()
        )
    ).all()
    past = session.execute(
        query.where(Enrolment.state != EnrolmentState.active.value)
        .order_by(Enrolment.ended_at.desc(), Enrolment.id.desc())
        .limit(ended)
    ).all()
    return {
        "active": enrolment_rows(session, list(active)),
        "ended": enrolment_rows(session, list(past)),
    }
