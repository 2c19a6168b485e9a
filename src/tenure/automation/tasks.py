"""The automation capability's jobs: advance due steps, fire the non-event triggers,
notice score crossings, call a workflow's webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy.orm import Session

from tenure.automation.active import active_versions
from tenure.automation.definition import DateAttributeTrigger, ScheduleTrigger
from tenure.automation.effects import WEBHOOK_TASK
from tenure.automation.enrolment import ADVANCE_TASK, enqueue_advance
from tenure.automation.runner import advance, any_due
from tenure.automation.triggers import fire_dates, fire_schedules, score_crossings
from tenure.config import Settings
from tenure.db.session import unit_of_work
from tenure.identity.secret_key import ensure_secret_key
from tenure.jobs import JobContext, task
from tenure.webhooks import sending
from tenure.workspace import clock

TRIGGERS_TASK = "automation.triggers"
SCORES_TASK = "automation.score_crossings"
#: How long one advance job runs before it hands over to a fresh one (the job's timeout
#: is well above it).
ADVANCE_BUDGET_SECONDS = 240.0


class WebhookCallFailed(RuntimeError):
    """A retryable answer: the job runner tries again after its backoff."""


def advance_wanted(session: Session) -> bool:
    """Whether the per-minute advance schedule has work: a step of an active workflow is
    due (workspace clock). Otherwise the tick enqueues no job at all (docs/jobs.md)."""
    return any_due(session, clock.now(session))


def triggers_wanted(session: Session) -> bool:
    """Whether the per-minute triggers schedule has work: an active workflow has a
    schedule or a date-attribute trigger (one cached read of the active workflows)."""
    return any(
        isinstance(version.definition.trigger, ScheduleTrigger | DateAttributeTrigger)
        for version in active_versions(session)
    )


@task(ADVANCE_TASK, max_attempts=10, timeout_seconds=900)
def advance_job(ctx: JobContext) -> dict[str, Any]:
    """Run the workflow steps that are due (a batch per transaction, exactly once)."""
    done = advance(ctx.session_factory, ctx.settings, budget_seconds=ADVANCE_BUDGET_SECONDS)
    if done.more:
        with unit_of_work(ctx.session_factory) as session:
            enqueue_advance(session)
    return {"ran": done.ran, "by_state": done.by_state, "batches": done.batches}


@task(TRIGGERS_TASK, max_attempts=3, timeout_seconds=900)
def triggers_job(ctx: JobContext) -> dict[str, Any]:
    """Enrol for the schedule and date-attribute triggers that came due."""
    with unit_of_work(ctx.session_factory) as session:
        scheduled = fire_schedules(session)
        dated = fire_dates(session)
    return {"schedule": scheduled, "date_attribute": dated}


@task(SCORES_TASK, max_attempts=3, timeout_seconds=1800)
def score_crossings_job(ctx: JobContext) -> dict[str, Any]:
    """After a scores refresh: enrol the people who crossed a score trigger's threshold."""
    with unit_of_work(ctx.session_factory) as session:
        enrolled = score_crossings(session)
    return {"enrolled": enrolled}


def webhook_secret(session: Session, settings: Settings) -> str:
    """The secret workflow webhook calls are signed with (Standard Webhooks format),
    derived from the instance's secret key (``TENURE_SECRET_KEY`` or the stored one):
    ``tenure workflows webhook-secret`` shows it to configure the receiver."""
    key = settings.secret_key or ensure_secret_key(session)
    digest = hmac.new(key.encode(), b"tenure-workflow-webhooks", hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


@task(WEBHOOK_TASK, max_attempts=16, timeout_seconds=300)
def call_webhook_job(ctx: JobContext) -> dict[str, Any]:
    """POST a workflow step's call, signed; retried with backoff."""
    body = json.dumps(ctx.payload["body"], separators=(",", ":")).encode()
    with unit_of_work(ctx.session_factory) as session:
        secret = webhook_secret(session, ctx.settings)
    attempted = sending.post(
        url=str(ctx.payload["url"]),
        secret=secret,
        webhook_id=str(ctx.payload["webhook_id"]),
        body=body,
        timeout_seconds=ctx.settings.webhook_timeout_seconds,
        allow_private=ctx.settings.webhook_allow_private_addresses,
    )
    if attempted.outcome is sending.Outcome.retry:
        raise WebhookCallFailed(attempted.error or f"HTTP {attempted.status_code}")
    return {
        "outcome": attempted.outcome.value,
        "status_code": attempted.status_code,
        "error": attempted.error,
    }


__all__ = ["ADVANCE_TASK", "SCORES_TASK", "TRIGGERS_TASK", "WEBHOOK_TASK"]
