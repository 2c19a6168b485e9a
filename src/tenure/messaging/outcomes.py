"""Recording what became of a batch of sends, in the jobs' own transaction.

Each message's row is marked sent, failed, suppressed or deferred (a deferral is a new job
at the time it may go), hard bounces suppress their address, and the batch's
``email_sent`` and ``email_bounced`` events are appended at once (one run of the event
pipeline for the batch). It all commits with the jobs' completion, or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.jobs import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, enqueue
from tenure.jobs.registry import Outcome
from tenure.messaging.bounces import condemns_address
from tenure.messaging.events import append_email_events, email_event_row
from tenure.messaging.models import Message, MessageStatus, Purpose, Suppression, SuppressionSource
from tenure.messaging.policy import Decision, Defer, Skip
from tenure.messaging.smtp import PermanentFailure, TemporaryFailure
from tenure.workspace import clock

SEND_TASK = "messaging.send_email"


@dataclass
class Planned:
    """One job's message on its way: the checks' decision, then the server's answer."""

    attempt: Any  # sending.Attempt
    message: Message | None
    now: datetime
    #: Set when there is nothing to send (the row is gone or already settled).
    result: dict[str, Any] | None = None
    decision: Decision = None
    reply: str | None = None
    failure: PermanentFailure | TemporaryFailure | None = None


def job_priority(purpose: str) -> int:
    """Transactional mail never waits behind a bulk send (docs/jobs.md, slots)."""
    return PRIORITY_BULK if purpose == Purpose.marketing.value else PRIORITY_TRANSACTIONAL


def suppress_address(
    session: Session, *, address: str, reason: str, source: str, actor_id: int | None = None
) -> None:
    """Add ``address`` to the suppression list; an address already there keeps its entry."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Suppression)
        .values(
            address=address.lower(),
            reason=reason[:2000],
            source=source,
            created_at=utcnow(),
            created_by_id=actor_id,
        )
        .on_conflict_do_nothing()
    )


class _Batch:
    """The row updates and events of a batch, written together."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.updates: list[dict[str, Any]] = []
        self.events: list[tuple[str, Message, dict[str, Any] | None]] = []

    def finish(self, message: Message, status: str, reason: str | None, **values: Any) -> None:
        self.updates.append(
            {"id": message.id, "status": status, "reason": reason, "updated_at": utcnow()} | values
        )

    def write(self) -> None:
        # One executemany per set of columns (ORM bulk UPDATE by primary key).
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for values in self.updates:
            by_columns[tuple(sorted(values))].append(values)
        for rows in by_columns.values():
            self.session.execute(update(Message), rows)
        if self.events:
            occurred, received = clock.now(self.session), utcnow()
            # One append per kind: reactions judge an append by its types (the stage
            # reaction skips email_sent alone, not a batch that holds a bounce).
            for kind in sorted({kind for kind, _, _ in self.events}):
                events = [
                    email_event_row(
                        message, kind, extra, occurred_at=occurred, received_at=received, once=True
                    )
                    for each, message, extra in self.events
                    if each == kind and message.person_id is not None
                ]
                append_email_events(self.session, events)


def _defer(batch: _Batch, plan: Planned, message: Message, decision: Defer) -> dict[str, Any]:
    """A new job at ``decision.until`` (this one completes); the message keeps its
    Message-ID, which belongs to the message, not to a job."""
    job_id = enqueue(
        session=batch.session,
        task=SEND_TASK,
        payload={"message_id": message.id},
        run_at=decision.until,
        priority=job_priority(message.purpose),
        idempotency_key=f"{message.idempotency_key}:after:{plan.attempt.job_id}",
    )
    batch.finish(
        message, MessageStatus.deferred.value, decision.reason, job_id=job_id, run_at=decision.until
    )
    return {
        "status": MessageStatus.deferred.value,
        "until": decision.until,
        "reason": decision.reason,
    }


def _bounced(
    batch: _Batch, message: Message, failure: PermanentFailure, attempt: int
) -> dict[str, Any]:
    reply = f"{failure.code} {failure.reply}".strip()
    if condemns_address(failure.code, failure.reply):
        suppress_address(
            batch.session,
            address=message.to_address,
            reason=f"hard bounce: {reply}"[:2000],
            source=SuppressionSource.bounce.value,
        )
        reason = f"hard bounce, address suppressed: {reply}"
        batch.events.append(("email_bounced", message, {"smtp_reply": reply}))
    else:
        reason = f"refused: {reply}"
    batch.finish(
        message, MessageStatus.failed.value, reason, smtp_reply=reply[:2000], attempts=attempt
    )
    return {"status": MessageStatus.failed.value, "reason": reason}


def _outcome(batch: _Batch, plan: Planned, max_attempts: int) -> Outcome:
    message, decision, attempt = plan.message, plan.decision, plan.attempt.attempt
    if plan.result is not None or message is None:
        return plan.result
    if isinstance(decision, Skip):
        batch.finish(message, MessageStatus.suppressed.value, decision.reason)
        return {"status": MessageStatus.suppressed.value, "reason": decision.reason}
    if isinstance(decision, Defer):
        return _defer(batch, plan, message, decision)
    failure = plan.failure
    if isinstance(failure, PermanentFailure):
        return _bounced(batch, message, failure, attempt)
    if isinstance(failure, TemporaryFailure):
        if attempt >= max_attempts:
            reason = f"gave up: {failure}"
            batch.finish(message, MessageStatus.failed.value, reason, attempts=attempt)
            return {"status": MessageStatus.failed.value, "reason": reason}
        # The reason on the row (it stays queued), and the job retried with backoff.
        batch.updates.append(
            {
                "id": message.id,
                "reason": f"{failure} (attempt {attempt}, will retry)"[:2000],
                "attempts": attempt,
                "updated_at": utcnow(),
            }
        )
        return failure
    reply = plan.reply or ""
    batch.finish(
        message,
        MessageStatus.sent.value,
        None,
        sent_at=plan.now,
        smtp_reply=reply[:2000],
        attempts=attempt,
    )
    batch.events.append(("email_sent", message, None))
    return {"status": MessageStatus.sent.value, "message_id": message.message_id_header}


def record(session: Session, plans: list[Planned], *, max_attempts: int) -> list[Outcome]:
    """Write what became of each plan; one outcome per plan, in order."""
    batch = _Batch(session)
    outcomes = [_outcome(batch, plan, max_attempts) for plan in plans]
    batch.write()
    return outcomes
