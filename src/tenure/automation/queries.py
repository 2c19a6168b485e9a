"""Reads of workflows for the API, the CLI and the pages: lists, one workflow with its
versions and counts, enrolments with their steps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.automation.models import (
    Enrolment,
    EnrolmentState,
    EnrolmentStep,
    StepState,
    Workflow,
    WorkflowVersion,
)
from tenure.errors import InvalidInput, NotFound

MAX_PAGE = 500


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def list_workflows(session: Session, *, status: str | None = None) -> list[Workflow]:
    query = select(Workflow).order_by(Workflow.name)
    if status is not None:
        query = query.where(Workflow.status == status)
    return list(session.scalars(query))


def state_counts(session: Session, workflow_id: int | None = None) -> dict[int, dict[str, int]]:
    """workflow id -> enrolments by state."""
    query = select(Enrolment.workflow_id, Enrolment.state, func.count()).group_by(
        Enrolment.workflow_id, Enrolment.state
    )
    if workflow_id is not None:
        query = query.where(Enrolment.workflow_id == workflow_id)
    counts: dict[int, dict[str, int]] = {}
    for wid, state, count in session.execute(query):
        counts.setdefault(wid, {})[state] = int(count)
    return counts


def people_at_steps(session: Session, workflow_id: int) -> dict[str, int]:
    """step id -> how many active enrolments wait at it (their pending row)."""
    rows = session.execute(
        select(EnrolmentStep.step_id, func.count())
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .where(
            Enrolment.workflow_id == workflow_id,
            Enrolment.state == EnrolmentState.active.value,
            EnrolmentStep.state == StepState.pending.value,
        )
        .group_by(EnrolmentStep.step_id)
    )
    return {step_id: int(count) for step_id, count in rows}


def step_outcomes(session: Session, workflow_id: int) -> dict[str, dict[str, int]]:
    """step id -> its rows by state (done, skipped, failed, cancelled, pending)."""
    rows = session.execute(
        select(EnrolmentStep.step_id, EnrolmentStep.state, func.count())
        .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
        .where(Enrolment.workflow_id == workflow_id)
        .group_by(EnrolmentStep.step_id, EnrolmentStep.state)
    )
    found: dict[str, dict[str, int]] = {}
    for step_id, state, count in rows:
        found.setdefault(step_id, {})[state] = int(count)
    return found


def workflow_dict(
    workflow: Workflow, counts: dict[str, int] | None = None, version: int | None = None
) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "status": workflow.status,
        "published_version": version,
        "enrolments": counts or {},
        "created_at": _iso(workflow.created_at),
        "updated_at": _iso(workflow.updated_at),
    }


def version_numbers(session: Session) -> dict[int, int]:
    """version id -> its number."""
    return {
        version_id: number
        for version_id, number in session.execute(
            select(WorkflowVersion.id, WorkflowVersion.number)
        )
    }


def workflow_summaries(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    counts = state_counts(session)
    numbers = version_numbers(session)
    return [
        workflow_dict(w, counts.get(w.id), numbers.get(w.published_version_id or 0))
        for w in list_workflows(session, status=status)
    ]


def workflow_detail(session: Session, workflow_id: int) -> dict[str, Any]:
    """One workflow: its draft, its versions, counts by state and people at each step."""
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound("workflow", workflow_id)
    versions = list(
        session.scalars(
            select(WorkflowVersion)
            .where(WorkflowVersion.workflow_id == workflow_id)
            .order_by(WorkflowVersion.number.desc())
        )
    )
    published = next((v for v in versions if v.id == workflow.published_version_id), None)
    return {
        **workflow_dict(
            workflow,
            state_counts(session, workflow_id).get(workflow_id),
            published.number if published else None,
        ),
        "draft": workflow.draft,
        "definition": published.definition if published else None,
        "versions": [
            {"id": v.id, "number": v.number, "published_at": _iso(v.published_at)} for v in versions
        ],
        "at_steps": people_at_steps(session, workflow_id),
        "step_outcomes": step_outcomes(session, workflow_id),
    }


def enrolment_dict(
    enrolment: Enrolment, steps: list[EnrolmentStep] | None = None, version: int | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": enrolment.id,
        "workflow_id": enrolment.workflow_id,
        "version": version,
        "person_id": enrolment.person_id,
        "entry_key": enrolment.entry_key,
        "state": enrolment.state,
        "holdout": enrolment.holdout,
        "current_step": enrolment.current_step,
        "entered_at": _iso(enrolment.entered_at),
        "ended_at": _iso(enrolment.ended_at),
        "end_reason": enrolment.end_reason,
    }
    if steps is not None:
        found["steps"] = [
            {
                "step_id": s.step_id,
                "state": s.state,
                "due_at": _iso(s.due_at),
                "ran_at": _iso(s.ran_at),
                "outcome": s.outcome,
            }
            for s in steps
        ]
    return found


def list_enrolments(
    session: Session,
    *,
    workflow_id: int | None = None,
    person_id: int | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Enrolments, newest first, each with its step rows."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"between 1 and {MAX_PAGE}")
    if state is not None and state not in {s.value for s in EnrolmentState}:
        raise InvalidInput("state", f"one of {', '.join(s.value for s in EnrolmentState)}")
    query = select(Enrolment).order_by(Enrolment.id.desc()).limit(limit).offset(offset)
    if workflow_id is not None:
        query = query.where(Enrolment.workflow_id == workflow_id)
    if person_id is not None:
        query = query.where(Enrolment.person_id == person_id)
    if state is not None:
        query = query.where(Enrolment.state == state)
    enrolments = list(session.scalars(query))
    by_enrolment: dict[int, list[EnrolmentStep]] = {}
    if enrolments:
        for step in session.scalars(
            select(EnrolmentStep)
            .where(EnrolmentStep.enrolment_id.in_([e.id for e in enrolments]))
            .order_by(EnrolmentStep.id)
        ):
            by_enrolment.setdefault(step.enrolment_id, []).append(step)
    numbers = version_numbers(session)
    return [
        enrolment_dict(e, by_enrolment.get(e.id, []), numbers.get(e.version_id)) for e in enrolments
    ]


def enrolment_detail(session: Session, enrolment_id: int) -> dict[str, Any]:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("enrolment", enrolment_id)
    steps = list(
        session.scalars(
            select(EnrolmentStep)
            .where(EnrolmentStep.enrolment_id == enrolment_id)
            .order_by(EnrolmentStep.id)
        )
    )
    number = session.scalar(
        select(WorkflowVersion.number).where(WorkflowVersion.id == enrolment.version_id)
    )
    return enrolment_dict(enrolment, steps, number)
