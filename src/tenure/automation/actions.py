"""Writes on workflows, one unit of work each (they take ``actor``, check
``WORKFLOW_EDITORS``, audit and commit): create, edit the draft, publish a version,
pause, resume, archive; enrol a person or a segment by hand; cancel an enrolment.

Publishing copies the draft into a new immutable version: people already enrolled finish
under the version they entered with, newcomers enter the new one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.automation import active
from tenure.automation.active import ActiveVersion, definition_of
from tenure.automation.checks import parse_definition, require_publishable
from tenure.automation.enrolment import Candidate, end_enrolments, enrol
from tenure.automation.models import (
    Enrolment,
    EnrolmentState,
    Workflow,
    WorkflowStatus,
    WorkflowVersion,
)
from tenure.customers.models import Person
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import audit_changed, audit_created, record_audit
from tenure.identity.permissions import WORKFLOW_EDITORS, Actor, authorize
from tenure.segments.models import Segment, SegmentMember
from tenure.workspace import clock

NAME_MAX = 200


def get_workflow(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound("workflow", workflow_id)
    return workflow


def _clean_name(session: Session, name: str, workflow_id: int | None = None) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput("name", "name the workflow")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput("name", f"at most {NAME_MAX} characters")
    query = select(Workflow.id).where(Workflow.name == cleaned)
    if workflow_id is not None:
        query = query.where(Workflow.id != workflow_id)
    if session.scalar(query) is not None:
        raise Conflict(f"a workflow named {cleaned!r} exists", field="name")
    return cleaned


def _changed(session: Session) -> None:
    """A status or version changed: this transaction's enrolment reaction must re-read."""
    active.forget(session)


def create_workflow(
    session: Session,
    *,
    actor: Actor | None,
    name: str,
    definition: dict[str, Any],
    description: str = "",
) -> Workflow:
    """A new draft workflow (its definition checked for shape; the database checks come
    at publish); committed."""
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    cleaned = _clean_name(session, name)
    parsed = parse_definition(definition)
    now = utcnow()
    workflow = Workflow(
        name=cleaned,
        description=(description or "").strip(),
        status=WorkflowStatus.draft.value,
        draft=parsed.model_dump(mode="json"),
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(workflow)
    session.flush()
    audit_created(
        session=session,
        actor_id=actor_id,
        entity_type="workflow",
        entity_id=workflow.id,
        fields={"name": cleaned, "status": workflow.status},
    )
    session.commit()
    return workflow


def update_draft(
    session: Session,
    *,
    actor: Actor | None,
    workflow_id: int,
    definition: dict[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Workflow:
    """Change the draft (and name, description); the published version is untouched
    until the next publish. Committed."""
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    workflow = get_workflow(session, workflow_id)
    if workflow.status == WorkflowStatus.archived.value:
        raise Conflict("the workflow is archived")
    before = {"name": workflow.name, "description": workflow.description, "draft": workflow.draft}
    if name is not None:
        workflow.name = _clean_name(session, name, workflow.id)
    if description is not None:
        workflow.description = description.strip()
    if definition is not None:
        workflow.draft = parse_definition(definition).model_dump(mode="json")
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="workflow",
        entity_id=workflow.id,
        before=before,
        after={"name": workflow.name, "description": workflow.description, "draft": workflow.draft},
    )
    session.commit()
    return workflow


def publish(session: Session, *, actor: Actor | None, workflow_id: int) -> WorkflowVersion:
    """Check the draft against the database and publish it as the next version; a draft
    workflow becomes active (a paused one stays paused). Committed."""
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    workflow = get_workflow(session, workflow_id)
    if workflow.status == WorkflowStatus.archived.value:
        raise Conflict("the workflow is archived: create a new one")
    definition = require_publishable(session, workflow.draft, workflow_id=workflow.id)
    number = (
        session.scalar(
            select(func.max(WorkflowVersion.number)).where(
                WorkflowVersion.workflow_id == workflow.id
            )
        )
        or 0
    ) + 1
    version = WorkflowVersion(
        workflow_id=workflow.id,
        number=number,
        definition=definition.model_dump(mode="json"),
        published_by_id=actor_id,
        published_at=utcnow(),
    )
    session.add(version)
    session.flush()
    before = {"status": workflow.status, "version": number - 1}
    workflow.published_version_id = version.id
    if workflow.status == WorkflowStatus.draft.value:
        workflow.status = WorkflowStatus.active.value
    workflow.updated_at = utcnow()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="publish",
        entity_type="workflow",
        entity_id=workflow.id,
        changes={
            "status": {"before": before["status"], "after": workflow.status},
            "version": {"before": before["version"] or None, "after": number},
        },
    )
    _changed(session)
    session.commit()
    return version


def _set_status(
    session: Session,
    actor: Actor | None,
    workflow_id: int,
    status: WorkflowStatus,
    allowed_from: tuple[WorkflowStatus, ...],
) -> Workflow:
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    workflow = get_workflow(session, workflow_id)
    if workflow.status == status.value:
        return workflow
    if workflow.status not in {s.value for s in allowed_from}:
        raise Conflict(f"a {workflow.status} workflow cannot become {status.value}")
    record_audit(
        session=session,
        actor_id=actor_id,
        action=status.value,
        entity_type="workflow",
        entity_id=workflow.id,
        changes={"status": {"before": workflow.status, "after": status.value}},
    )
    workflow.status = status.value
    workflow.updated_at = utcnow()
    _changed(session)
    return workflow


def pause(session: Session, *, actor: Actor | None, workflow_id: int) -> Workflow:
    """Nobody enters and no step runs; people keep their place. Committed."""
    workflow = _set_status(
        session, actor, workflow_id, WorkflowStatus.paused, (WorkflowStatus.active,)
    )
    session.commit()
    return workflow


def resume(session: Session, *, actor: Actor | None, workflow_id: int) -> Workflow:
    """Back to active: steps that came due meanwhile run now. Committed."""
    workflow = _set_status(
        session, actor, workflow_id, WorkflowStatus.active, (WorkflowStatus.paused,)
    )
    session.commit()
    return workflow


def archive(session: Session, *, actor: Actor | None, workflow_id: int) -> Workflow:
    """End the workflow: its active enrolments are cancelled with their pending steps;
    kept for the report. Committed."""
    workflow = _set_status(
        session,
        actor,
        workflow_id,
        WorkflowStatus.archived,
        (WorkflowStatus.draft, WorkflowStatus.active, WorkflowStatus.paused),
    )
    ids = list(
        session.scalars(
            select(Enrolment.id).where(
                Enrolment.workflow_id == workflow.id,
                Enrolment.state == EnrolmentState.active.value,
            )
        )
    )
    end_enrolments(
        session,
        ids,
        state=EnrolmentState.cancelled,
        reason="the workflow was archived",
        now=clock.now(session),
    )
    session.commit()
    return workflow


def _active_version(session: Session, workflow_id: int) -> ActiveVersion:
    workflow = get_workflow(session, workflow_id)
    if workflow.status != WorkflowStatus.active.value or workflow.published_version_id is None:
        raise Conflict(
            f"the workflow is {workflow.status}: only an active workflow takes people",
            field="workflow_id",
        )
    version_id = workflow.published_version_id
    return ActiveVersion(workflow.id, version_id, definition_of(session, version_id))


def _manual(
    session: Session, actor: Actor | None, workflow_id: int, person_ids: list[int], what: str
) -> int:
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    version = _active_version(session, workflow_id)
    key = f"manual:{uuid.uuid4().hex[:16]}"
    # By hand the conditions are not asked: whoever enrols chose the people; the re-entry
    # policy still holds.
    enrolled = enrol(
        session,
        version,
        [Candidate(p, key) for p in person_ids],
        now=clock.now(session),
        check_conditions=False,
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="enrol",
        entity_type="workflow",
        entity_id=workflow_id,
        changes={"enrolled": {"before": None, "after": {"who": what, "count": enrolled}}},
    )
    session.commit()
    return enrolled


def enrol_person(session: Session, *, actor: Actor | None, workflow_id: int, person_id: int) -> int:
    """Enrol one person by hand (the re-entry policy still holds): 1 if enrolled, 0 if
    the policy refused. Committed."""
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    return _manual(session, actor, workflow_id, [person_id], f"person {person_id}")


def enrol_segment(
    session: Session, *, actor: Actor | None, workflow_id: int, segment_id: int
) -> int:
    """Enrol every member of a segment (as of its last refresh); how many. Committed."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    members = list(
        session.scalars(
            select(SegmentMember.person_id)
            .where(SegmentMember.segment_id == segment_id)
            .order_by(SegmentMember.person_id)
        )
    )
    return _manual(session, actor, workflow_id, members, f"segment {segment.name}")


def cancel_enrolment(session: Session, *, actor: Actor | None, enrolment_id: int) -> Enrolment:
    """End an active enrolment by hand, cancelling its pending steps. Committed."""
    actor_id = authorize(actor, WORKFLOW_EDITORS)
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("enrolment", enrolment_id)
    if enrolment.state != EnrolmentState.active.value:
        raise Conflict(f"the enrolment already ended ({enrolment.state})")
    who = f"cancelled by user {actor_id}" if actor_id else "cancelled by the operator"
    end_enrolments(
        session, [enrolment.id], state=EnrolmentState.cancelled, reason=who, now=clock.now(session)
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="cancel",
        entity_type="workflow_enrolment",
        entity_id=enrolment.id,
        changes={"state": {"before": EnrolmentState.active.value, "after": "cancelled"}},
    )
    session.commit()
    session.refresh(enrolment)
    return enrolment
