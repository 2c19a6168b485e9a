"""Sending one outbox message: the job handler's work.

Runs in the job's transaction (``ctx.session``): the message row marked sent and the
``email_sent`` event commit together with the job's completion, exactly once. The SMTP
hand-over itself is at least once: a worker killed after the server accepted the message
but before that commit leaves the job to be retried, and the resend carries the same
Message-ID (fixed on the row when it was queued), which the receiving side recognises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import Person
from tenure.db.types import utcnow
from tenure.jobs import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, enqueue
from tenure.messaging.bounces import condemns_address
from tenure.messaging.compose import compose, envelope_sender
from tenure.messaging.events import append_email_event
from tenure.messaging.links import MessageLinks, signing_key
from tenure.messaging.models import Message, MessageStatus, Purpose, Suppression, SuppressionSource
from tenure.messaging.policy import Defer, Skip, decide
from tenure.messaging.smtp import PermanentFailure, SmtpServer, TemporaryFailure, send

SEND_TASK = "messaging.send_email"
#: Attempts of one send job: with the runner's backoff (5 s doubling, +-50%), a server
#: that answers 4xx (greylisting, a full queue) is tried for about ten minutes.
MAX_ATTEMPTS = 8
FINAL = (MessageStatus.sent.value, MessageStatus.failed.value, MessageStatus.suppressed.value)


@dataclass(frozen=True)
class Attempt:
    """What the handler knows of its job (``jobs.JobContext``'s fields it needs)."""

    job_id: int
    attempt: int
    session: Session
    settings: Settings


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


def _finish(message: Message, status: str, reason: str | None, now: datetime) -> None:
    message.status = status
    message.reason = reason
    message.updated_at = now


def _defer(attempt: Attempt, message: Message, decision: Defer, now: datetime) -> dict[str, Any]:
    """A new job at ``decision.until`` (this one completes); the message keeps its
    Message-ID, which belongs to the message, not to a job."""
    job_id = enqueue(
        session=attempt.session,
        task=SEND_TASK,
        payload={"message_id": message.id},
        run_at=decision.until,
        priority=job_priority(message.purpose),
        idempotency_key=f"{message.idempotency_key}:after:{attempt.job_id}",
    )
    message.job_id = job_id
    message.run_at = decision.until
    _finish(message, MessageStatus.deferred.value, decision.reason, now)
    return {"status": message.status, "until": decision.until, "reason": decision.reason}


def _record_retry(attempt: Attempt, message_id: int, reason: str) -> None:
    """The 4xx on the row, in a transaction of its own: the job's rolls back when the
    handler raises for the runner to retry it. The job's own session lets go first (on
    SQLite it holds the write lock)."""
    attempt.session.rollback()
    attempt.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(reason=reason[:2000], attempts=attempt.attempt, updated_at=utcnow())
    )
    attempt.session.commit()


def send_message(attempt: Attempt, message_id: int) -> dict[str, Any]:
    session, settings = attempt.session, attempt.settings
    message = session.get(Message, message_id)
    if message is None:
        return {"status": "gone"}
    if message.status in FINAL or message.job_id not in (None, attempt.job_id):
        # Already settled, or superseded by a later (deferred) job.
        return {"status": message.status, "stale": True}
    now = utcnow()
    person = session.get(Person, message.person_id) if message.person_id else None
    decision = decide(session, message, person.attributes if person else None, settings, now)
    if isinstance(decision, Skip):
        _finish(message, MessageStatus.suppressed.value, decision.reason, now)
        return {"status": message.status, "reason": decision.reason}
    if isinstance(decision, Defer):
        return _defer(attempt, message, decision, now)
    links = MessageLinks(
        key=signing_key(session, settings), public_url=settings.public_url, message_id=message.id
    )
    mime = compose(message, settings=settings, links=links, now=now)
    message.attempts = attempt.attempt
    try:
        reply = send(
            SmtpServer.from_settings(settings),
            mime,
            sender=envelope_sender(settings),
            recipient=message.to_address,
        )
    except PermanentFailure as failure:
        return _bounced(session, message, failure, now)
    except TemporaryFailure as failure:
        if attempt.attempt >= MAX_ATTEMPTS:
            _finish(message, MessageStatus.failed.value, f"gave up: {failure}", now)
            return {"status": message.status, "reason": message.reason}
        _record_retry(attempt, message.id, f"{failure} (attempt {attempt.attempt}, will retry)")
        raise
    message.sent_at = now
    message.smtp_reply = reply[:2000]
    _finish(message, MessageStatus.sent.value, None, now)
    append_email_event(session, message, "email_sent", once=True)
    return {"status": message.status, "message_id": message.message_id_header}


def _bounced(
    session: Session, message: Message, failure: PermanentFailure, now: datetime
) -> dict[str, Any]:
    reply = f"{failure.code} {failure.reply}".strip()
    message.smtp_reply = reply[:2000]
    if condemns_address(failure.code, failure.reply):
        suppress_address(
            session,
            address=message.to_address,
            reason=f"hard bounce: {reply}"[:2000],
            source=SuppressionSource.bounce.value,
        )
        _finish(
            message, MessageStatus.failed.value, f"hard bounce, address suppressed: {reply}", now
        )
        append_email_event(session, message, "email_bounced", {"smtp_reply": reply}, once=True)
    else:
        _finish(message, MessageStatus.failed.value, f"refused: {reply}", now)
    return {"status": message.status, "reason": message.reason}
