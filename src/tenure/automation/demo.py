"""The workflows' part of the demo workspace: three workflows and a spring of history.

* **Win back at-risk customers** (published, 10 % holdout): a customer placed in the At
  risk stage waits 3 days, gets the Win-back template, waits 14 days; if they spent over
  200 in the last year their owner gets a task to call (an event sum: the demo's scores
  are computed after the contributions); everyone who finishes is tagged. Its goal is
  an order.
* **Welcome first-time buyers** (published): a new customer gets the Welcome template a
  day later. The CDNOW log's customers all first bought in early 1997, so nobody enters
  it in the demo's 1998: its empty counts are the truth.
* **Renewal reminder** (a draft): for the builder, not published.

People enter the win-back workflow as the log happened: a sample of each day's At risk
placements of the last three months, each enrolled at the moment it happened through the
engine's caller-owned ``enrolment.enrol``; their due steps then run through the engine's
``runner.run_batch``, each at the time it fell due, so the builder's per-step counts, the
report (conversion in the workflow vs the holdout, from the orders that followed) and
the person card show what three months of the workflow would have left. Today's
placements come from the nightly run that ends the demo build; they enter through the
enrolment reaction like any live placement. Everything happens in the builder's
transaction: the publish and enrol actions commit, so the demo writes the two rows a
publish writes itself, after the engine's own check (``checks.require_publishable``).
Sends are queued in the outbox like any workflow's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.automation.active import ActiveVersion, forget
from tenure.automation.checks import require_publishable
from tenure.automation.enrolment import Candidate, enrol
from tenure.automation.models import (
    EnrolmentStep,
    StepState,
    Workflow,
    WorkflowStatus,
    WorkflowVersion,
)
from tenure.automation.runner import Advanced, run_batch
from tenure.config import get_settings
from tenure.db import dialect as sql
from tenure.db.types import utcnow
from tenure.messaging.templating.models import MessageTemplate
from tenure.timeline.models import Event
from tenure.workspace.demo import DemoContext, register_demo_contribution

#: How far back people enter, and how many of each day's At risk placements (the demo
#: places stages at each month's start: April, May, June and today).
HISTORY_DAYS = 95
PER_DAY = 30


def _win_back(templates: dict[str, int]) -> dict[str, Any]:
    return {
        "trigger": {"kind": "stage_changed", "to_stage": "at_risk"},
        "goal": {"event_type": "order"},
        "exit_when": {"unsubscribed": True, "churned": False},
        "re_entry": {"policy": "after_exit", "cooldown_days": 0},
        "holdout_percent": 10,
        "steps": [
            {"id": "wait-3", "kind": "wait", "duration": {"days": 3}},
            {"id": "win-back", "kind": "send_email", "template_id": templates["win-back"]},
            {"id": "wait-14", "kind": "wait", "duration": {"days": 14}},
            {
                "id": "valuable",
                "kind": "branch",
                "condition": "sum(order.amount, last 365 days) > 200",
                "if_false": "tag",
            },
            {
                "id": "call",
                "kind": "create_task",
                "title": "Call: at risk and no order since the win-back email",
                "due_in_days": 3,
            },
            {"id": "tag", "kind": "add_tag", "tag": "win-back-sent"},
        ],
    }


def _welcome(templates: dict[str, int]) -> dict[str, Any]:
    return {
        "trigger": {"kind": "stage_changed", "to_stage": "new_customer"},
        "goal": {"event_type": "order"},
        "steps": [
            {"id": "wait-1", "kind": "wait", "duration": {"days": 1}},
            {"id": "welcome", "kind": "send_email", "template_id": templates["welcome"]},
            {"id": "wait-10", "kind": "wait", "duration": {"days": 10}},
            {
                "id": "follow-up",
                "kind": "send_email",
                "template_id": templates["order-follow-up"],
                "purpose": "transactional",
            },
        ],
    }


def _renewal(templates: dict[str, int]) -> dict[str, Any]:
    return {
        "trigger": {"kind": "date_attribute", "attribute": "renewal_date", "offset_days": -14},
        "conditions": 'tag = "b2b"',
        "steps": [
            {
                "id": "remind",
                "kind": "send_email",
                "template_id": templates["renewal-reminder"],
                "purpose": "transactional",
            },
            {"id": "wait-7", "kind": "wait", "duration": {"days": 7}},
            {"id": "task", "kind": "create_task", "title": "Renewal in a week: check in"},
        ],
    }


def _workflow(
    session: Session, name: str, description: str, draft: dict[str, Any], *, publish: bool
) -> ActiveVersion | None:
    now = utcnow()
    workflow = Workflow(
        name=name,
        description=description,
        status=WorkflowStatus.draft.value,
        draft=draft,
        created_at=now,
        updated_at=now,
    )
    session.add(workflow)
    session.flush()
    definition = require_publishable(session, draft, workflow_id=workflow.id)
    workflow.draft = definition.model_dump(mode="json")
    if not publish:
        return None
    version = WorkflowVersion(
        workflow_id=workflow.id, number=1, definition=workflow.draft, published_at=now
    )
    session.add(version)
    session.flush()
    workflow.published_version_id = version.id
    workflow.status = WorkflowStatus.active.value
    session.flush()
    return ActiveVersion(workflow.id, version.id, definition)


def _enrol_history(context: DemoContext, version: ActiveVersion) -> int:
    """A sample of each day's At risk placements of the last ``HISTORY_DAYS`` (today's
    included: they wait for their first step), each enrolled on the moment it happened."""
    session = context.session
    name = session.get_bind().dialect.name
    since = context.today - timedelta(days=HISTORY_DAYS)
    rows = session.execute(
        select(Event.id, Event.person_id, Event.occurred_at)
        .where(
            Event.type == "stage_changed",
            Event.occurred_at > since,
            Event.occurred_at <= context.today,
            sql.json_equals_text(name, Event.payload, "to", "at_risk"),
        )
        .order_by(Event.id)
    ).all()
    by_moment: dict[datetime, list[Candidate]] = defaultdict(list)
    for event_id, person_id, occurred_at in rows:
        if person_id is not None:
            by_moment[occurred_at].append(Candidate(person_id, f"event:{event_id}", event_id))
    enrolled = 0
    for moment in sorted(by_moment):
        day = by_moment[moment]
        if len(day) > PER_DAY:
            chosen = sorted(context.rng.choice(len(day), size=PER_DAY, replace=False))
            day = [day[index] for index in chosen]
        enrolled += enrol(session, version, day, now=moment)
    return enrolled


def _run_due(session: Session, today: datetime) -> int:
    """Run every step due before today, each at the moment it fell due (so a wait after
    it starts then, not today), oldest first, until none is due."""
    settings = get_settings()
    done = Advanced()
    while True:
        first = session.scalar(
            select(func.min(EnrolmentStep.due_at)).where(
                EnrolmentStep.state == StepState.pending.value, EnrolmentStep.due_at <= today
            )
        )
        if first is None:
            return done.ran
        # Every row due at that moment, run as the runner runs a batch.
        ids = list(
            session.scalars(
                select(EnrolmentStep.id)
                .where(
                    EnrolmentStep.state == StepState.pending.value,
                    EnrolmentStep.due_at == first,
                )
                .order_by(EnrolmentStep.id)
            )
        )
        run_batch(session, ids, now=first, settings=settings, done=done)


def add_demo_workflows(context: DemoContext) -> None:
    session = context.session
    templates = {
        key: template_id
        for key, template_id in session.execute(
            select(MessageTemplate.library_key, MessageTemplate.id)
        )
        if key
    }
    win_back = _workflow(
        session,
        "Win back at-risk customers",
        "Placed in At risk: the Win-back email after 3 days, a call for the valuable ones.",
        _win_back(templates),
        publish=True,
    )
    _workflow(
        session,
        "Welcome first-time buyers",
        "A new customer gets the Welcome email the next day and a follow-up after 10.",
        _welcome(templates),
        publish=True,
    )
    _workflow(
        session,
        "Renewal reminder",
        "Two weeks before a B2B renewal date: a reminder, then a check-in task.",
        _renewal(templates),
        publish=False,
    )
    forget(session)  # the enrolment reaction's cache must see the new versions
    assert win_back is not None
    _enrol_history(context, win_back)
    _run_due(session, context.today)


def register() -> None:
    register_demo_contribution("automation.workflows", add_demo_workflows, order=70)
