"""What each step does, in the step's transaction (``runner`` commits it with the next
row). Effects on the outside world go through outboxes carrying the step's idempotency
key: an email is staged with messaging (its send job and Message-ID follow from the
key), a webhook call is a job. Writes on Tenure's own tables go through the
capabilities' caller-owned actions, audited with no user (the system acts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.automation.definition import (
    BranchStep,
    CallWebhookStep,
    CreateTaskStep,
    Definition,
    EnrolStep,
    ExitStep,
    ListStep,
    SendEmailStep,
    SetFieldStep,
    SetStageStep,
    SplitStep,
    Step,
    TagStep,
    WaitForEventStep,
    WaitStep,
    WaitUntilTimeStep,
)
from tenure.automation.enrolment import Candidate, enrol, matching, split_draw
from tenure.automation.models import StepState, Workflow, WorkflowStatus
from tenure.automation.transitions import EXIT, Result, default_next
from tenure.config import Settings
from tenure.customers import actions as people_actions
from tenure.customers import activities
from tenure.customers.models import Person
from tenure.customers.schemas import PersonUpdate, TaskCreate
from tenure.errors import InvalidInput
from tenure.identity.models import Role, User
from tenure.identity.permissions import READ_ONLY_ROLES
from tenure.jobs import enqueue
from tenure.lifecycle.actions import pin_stage
from tenure.messaging.actions import stage_email
from tenure.messaging.models import Purpose
from tenure.messaging.policy import CONSENT_PURPOSE, consent_in_force, consent_rule
from tenure.messaging.templating.queries import current_version, get_template_row
from tenure.messaging.templating.render import render_template
from tenure.segments import membership
from tenure.segments.models import Segment, SegmentKind
from tenure.workspace.settings import phone_region

WEBHOOK_TASK = "automation.call_webhook"
PERSON_FIELDS = ("first_name", "last_name", "job_title")


@dataclass(frozen=True)
class StepRun:
    """One step about to run for one person."""

    session: Session
    settings: Settings
    definition: Definition
    workflow_id: int
    enrolment_id: int
    person_id: int
    idempotency_key: str
    now: datetime


def _done(run: StepRun, step: Step, outcome: str, way: str | None = None) -> Result:
    return Result(
        StepState.done, outcome, way if way is not None else default_next(run.definition, step.id)
    )


def _skipped(run: StepRun, step: Step, reason: str) -> Result:
    return Result(StepState.skipped, reason, default_next(run.definition, step.id))


def send_email(run: StepRun, step: SendEmailStep) -> Result:
    session = run.session
    template = get_template_row(session, step.template_id)
    if template.archived:
        return Result(
            StepState.failed,
            f"template {template.name!r} is archived",
            default_next(run.definition, step.id),
        )
    marketing = Purpose.marketing.value in (template.purpose, step.purpose)
    purpose = Purpose.marketing.value if marketing else Purpose.transactional.value
    status = consent_in_force(session, run.person_id, CONSENT_PURPOSE[purpose])
    refused = consent_rule(purpose, status)
    if refused is not None:
        return _skipped(run, step, refused.reason)
    version = current_version(session, step.template_id)
    rendered = render_template(session, version.id, run.person_id)
    try:
        message = stage_email(
            session,
            person_id=run.person_id,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            purpose=purpose,
            from_address=run.settings.mail_from,
            template_version_id=version.id,
            campaign_key=f"workflow:{run.workflow_id}",
            idempotency_key=f"workflow:{run.idempotency_key}",
        )
    except InvalidInput as error:
        if error.field == "person_id":  # no email address
            return _skipped(run, step, f"not sent: {error.reason}")
        raise
    return _done(run, step, f"queued message {message.id}: {message.subject}")


def _owner(session: Session, person_id: int) -> int | None:
    """The person's owner, if they can act on a task (not a read-only role)."""
    found = session.execute(
        select(User.id, User.role)
        .join(Person, Person.owner_id == User.id)
        .where(Person.id == person_id)
    ).first()
    return None if found is None or Role(found.role) in READ_ONLY_ROLES else int(found.id)


def create_task(run: StepRun, step: CreateTaskStep) -> Result:
    owner_id = _owner(run.session, run.person_id)
    task = activities.create_task(
        session=run.session,
        data=TaskCreate(
            title=step.title,
            description=f"From workflow {run.workflow_id}",
            assignee_id=owner_id,
            due_at=run.now + timedelta(days=step.due_in_days),
        ),
        actor_id=None,
        person_id=run.person_id,
    )
    who = f"user {owner_id}" if owner_id else "no one (no owner who can take tasks)"
    return _done(run, step, f"task {task.id} for {who}")


def create_tasks(runs: list[tuple[StepRun, CreateTaskStep]]) -> list[Result]:
    """A batch's create_task steps at once (one flush for all the tasks); the same
    outcome per step as :func:`create_task`."""
    if not runs:
        return []
    session = runs[0][0].session
    people = {run.person_id for run, _ in runs}
    owners = {
        person_id: user_id
        for person_id, user_id, role in session.execute(
            select(Person.id, User.id, User.role)
            .join(User, User.id == Person.owner_id)
            .where(Person.id.in_(people))
        )
        if Role(role) not in READ_ONLY_ROLES
    }
    tasks = activities.create_person_tasks(
        session=session,
        items=[
            (
                run.person_id,
                TaskCreate(
                    title=step.title,
                    description=f"From workflow {run.workflow_id}",
                    assignee_id=owners.get(run.person_id),
                    due_at=run.now + timedelta(days=step.due_in_days),
                ),
            )
            for run, step in runs
        ],
        actor_id=None,
    )
    results = []
    for (run, step), task in zip(runs, tasks, strict=True):
        owner_id = owners.get(run.person_id)
        who = f"user {owner_id}" if owner_id else "no one (no owner who can take tasks)"
        results.append(_done(run, step, f"task {task.id} for {who}"))
    return results


def _update(run: StepRun, data: PersonUpdate) -> None:
    people_actions.update_person(
        session=run.session,
        person_id=run.person_id,
        data=data,
        actor_id=None,
        default_region=phone_region(run.session, run.settings),
    )


def set_field(run: StepRun, step: SetFieldStep) -> Result:
    name = step.field.removeprefix("attribute.")
    if step.field in PERSON_FIELDS:
        value = "" if step.value is None else str(step.value)
        _update(run, PersonUpdate.model_validate({step.field: value}))
    else:
        _update(run, PersonUpdate(attributes={name: step.value}))
    return _done(run, step, f"{step.field} set to {json.dumps(step.value)}")


def tag(run: StepRun, step: TagStep) -> Result:
    person = people_actions.get_person_for_update(run.session, run.person_id)
    names = sorted(t.name for t in person.tags)
    if step.kind == "add_tag":
        if step.tag in names:
            return _done(run, step, f"already tagged {step.tag}")
        _update(run, PersonUpdate(tags=[*names, step.tag]))
        return _done(run, step, f"tagged {step.tag}")
    if step.tag not in names:
        return _done(run, step, f"was not tagged {step.tag}")
    _update(run, PersonUpdate(tags=[n for n in names if n != step.tag]))
    return _done(run, step, f"untagged {step.tag}")


def set_stage(run: StepRun, step: SetStageStep) -> Result:
    pin_stage(
        session=run.session,
        person_id=run.person_id,
        stage=step.stage,
        reason=f"set by workflow {run.workflow_id}",
        actor_id=None,
        at=run.now,
    )
    return _done(run, step, f"stage set to {step.stage}")


def change_list(run: StepRun, step: ListStep) -> Result:
    segment = run.session.get(Segment, step.segment_id)
    if segment is None or segment.kind != SegmentKind.static:
        return Result(
            StepState.failed,
            f"segment {step.segment_id} is not a static list",
            default_next(run.definition, step.id),
        )
    people = select(Person.id.label("person_id")).where(Person.id == run.person_id)
    if step.kind == "add_to_list":
        change = membership.add_members(run.session, segment, people, as_of=run.now)
        said = "added to" if change.entered else "already in"
    else:
        change = membership.remove_members(run.session, segment, people, as_of=run.now)
        said = "removed from" if change.exited else "was not in"
    return _done(run, step, f"{said} list {segment.name!r}")


def call_webhook(run: StepRun, step: CallWebhookStep) -> Result:
    body = {
        "type": "workflow.step",
        "data": {
            "workflow_id": run.workflow_id,
            "enrolment_id": run.enrolment_id,
            "person_id": run.person_id,
            "step": step.id,
            "at": run.now.isoformat(),
        },
    }
    webhook_id = f"wf_{run.idempotency_key.replace(':', '_')}"
    job_id = enqueue(
        session=run.session,
        task=WEBHOOK_TASK,
        payload={"url": step.url, "webhook_id": webhook_id, "body": body},
        idempotency_key=f"workflow:{run.idempotency_key}",
    )
    return _done(run, step, f"webhook call queued (job {job_id})")


def enrol_elsewhere(run: StepRun, step: EnrolStep) -> Result:
    from tenure.automation.active import active_versions

    target = next(
        (v for v in active_versions(run.session) if v.workflow_id == step.workflow_id), None
    )
    if target is None:
        status = run.session.scalar(select(Workflow.status).where(Workflow.id == step.workflow_id))
        return _skipped(
            run, step, f"workflow {step.workflow_id} is {status or 'gone'}: nobody enters"
        )
    created = enrol(
        run.session,
        target,
        [Candidate(run.person_id, f"workflow:{run.idempotency_key}")],
        now=run.now,
    )
    said = "enrolled in" if created else "not enrolled (conditions or re-entry) in"
    return _done(run, step, f"{said} workflow {step.workflow_id}")


def branch(run: StepRun, step: BranchStep) -> Result:
    met = run.person_id in matching(run.session, step.condition, [run.person_id], run.now)
    default = default_next(run.definition, step.id)
    way = (step.if_true if met else step.if_false) or default
    return Result(StepState.done, "condition met" if met else "condition not met", way)


def split(run: StepRun, step: SplitStep) -> Result:
    draw = split_draw(run.enrolment_id, step.id)
    default = default_next(run.definition, step.id)
    if draw < step.percent_a:
        return Result(StepState.done, "split: a", step.a or default)
    return Result(StepState.done, "split: b", step.b or default)


def run_step(run: StepRun, step: Step) -> Result:
    """Run ``step`` for the person; the caller closes the row and goes the way."""
    if isinstance(step, WaitStep | WaitUntilTimeStep):
        return _done(run, step, "waited")
    if isinstance(step, WaitForEventStep):
        default = default_next(run.definition, step.id)
        return Result(StepState.done, "timed out", step.on_timeout or default)
    if isinstance(step, SendEmailStep):
        return send_email(run, step)
    if isinstance(step, CreateTaskStep):
        return create_task(run, step)
    if isinstance(step, SetFieldStep):
        return set_field(run, step)
    if isinstance(step, TagStep):
        return tag(run, step)
    if isinstance(step, SetStageStep):
        return set_stage(run, step)
    if isinstance(step, ListStep):
        return change_list(run, step)
    if isinstance(step, CallWebhookStep):
        return call_webhook(run, step)
    if isinstance(step, EnrolStep):
        return enrol_elsewhere(run, step)
    if isinstance(step, BranchStep):
        return branch(run, step)
    if isinstance(step, SplitStep):
        return split(run, step)
    if isinstance(step, ExitStep):
        return Result(StepState.done, "exit step", EXIT)
    raise AssertionError(f"unknown step {step!r}")


def workflow_is_active(session: Session, workflow_id: int) -> bool:
    return (
        session.scalar(select(Workflow.status).where(Workflow.id == workflow_id))
        == WorkflowStatus.active.value
    )


__all__ = ["StepRun", "create_tasks", "run_step", "workflow_is_active"]
