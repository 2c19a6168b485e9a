"""Sending outbox messages: the job handler's work, a batch of send jobs at a time.

Three steps, so that no write transaction is open while the SMTP server talks (on SQLite
the job's transaction holds the one write lock from its first statement):

1. **read** (a read transaction of its own, no lock): the messages, then the send-time
   checks for the whole batch (``policy.gather``: a query per check, not per message);
2. **send**, with no transaction open: compose each message and hand it to the server
   over the worker thread's kept connection (``messaging.smtp``);
3. **record** (``messaging.outcomes``), in the jobs' transaction (``ctx.session``): the
   rows marked sent, failed, suppressed or deferred and the ``email_sent`` events (one
   append for the batch), committed together with the jobs' completion, exactly once.

The SMTP hand-over itself is at least once: a worker killed after the server accepted a
message but before that commit leaves its job to be retried, and the resend carries the
same Message-ID (fixed on the row when it was queued), which the receiving side
recognises.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.db.types import utcnow
from tenure.identity.secret_key import ensure_secret_key, stored_secret_key
from tenure.jobs.registry import Outcome
from tenure.messaging.compose import compose, envelope_sender
from tenure.messaging.links import MessageLinks
from tenure.messaging.models import Message, MessageStatus
from tenure.messaging.outcomes import SEND_TASK, Planned, job_priority, record
from tenure.messaging.policy import decide, gather
from tenure.messaging.smtp import (
    PermanentFailure,
    SmtpServer,
    TemporaryFailure,
    Unreachable,
    send,
)

__all__ = ["SEND_TASK", "Attempt", "job_priority", "send_messages"]

#: Attempts of one send job: with the runner's backoff (5 s doubling, +-50%), a server
#: that answers 4xx (greylisting, a full queue) is tried for about ten minutes.
MAX_ATTEMPTS = 8
#: Send jobs handed to one handler call: one read, one record transaction and one
#: timeline append for the batch instead of one each per message.
BATCH_SIZE = 16
FINAL = (MessageStatus.sent.value, MessageStatus.failed.value, MessageStatus.suppressed.value)


@dataclass(frozen=True)
class Attempt:
    """What the handler knows of one job (``jobs.JobContext``'s fields it needs)."""

    job_id: int
    attempt: int
    message_id: int


def _read(
    reader: Session, attempts: list[Attempt], settings: Settings
) -> tuple[list[Planned], str | None]:
    """The messages of ``attempts`` with what the checks decided, and the links' key."""
    now = utcnow()
    ids = [a.message_id for a in attempts]
    loaded = {m.id: m for m in reader.scalars(select(Message).where(Message.id.in_(ids)))}
    planned: list[Planned] = []
    live: list[Message] = []
    for attempt in attempts:
        message = loaded.get(attempt.message_id)
        if message is None:
            planned.append(Planned(attempt, None, now, result={"status": "gone"}))
        elif message.status in FINAL or message.job_id not in (None, attempt.job_id):
            # Already settled, or superseded by a later (deferred) job.
            result = {"status": message.status, "stale": True}
            planned.append(Planned(attempt, message, now, result=result))
        else:
            planned.append(Planned(attempt, message, now))
            live.append(message)
    if live:
        facts = gather(reader, live, settings, now)
        for plan in planned:
            if plan.result is None and plan.message is not None:
                plan.decision = decide(facts, plan.message, settings)
    return planned, settings.secret_key or stored_secret_key(reader)


#: The server reply recorded for a message composed but handed to no server.
CAPTURED = "captured, not delivered: TENURE_EMAIL_DELIVERY=capture"


def _send(plans: list[Planned], settings: Settings, key: str) -> None:
    """Hand each message the checks let go to the server; outcomes on the plans."""
    capture = settings.email_delivery == "capture"
    server = SmtpServer.from_settings(settings)
    sender = envelope_sender(settings)
    unreachable: Unreachable | None = None
    for plan in plans:
        message = plan.message
        if plan.result is not None or plan.decision is not None or message is None:
            continue
        if unreachable is not None:  # the rest of the batch waits for the server too
            plan.failure = unreachable
            continue
        links = MessageLinks(key=key, public_url=settings.public_url, message_id=message.id)
        data = compose(message, settings=settings, links=links, now=plan.now)
        if capture:
            plan.reply = CAPTURED
            continue
        try:
            plan.reply = send(server, data, sender=sender, recipient=message.to_address)
        except Unreachable as failure:
            plan.failure = unreachable = failure
        except (PermanentFailure, TemporaryFailure) as failure:
            plan.failure = failure


def send_messages(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    attempts: list[Attempt],
) -> list[Outcome]:
    """Send a batch; one outcome per attempt, in order (a result, or the temporary
    failure the runner retries with backoff). ``session`` is the jobs' transaction."""
    with session_factory() as reader:
        plans, key = _read(reader, attempts, settings)
        reader.expunge_all()  # the rows stay readable: a rollback would expire them
        reader.rollback()  # ends the read before any SMTP talk
    if key is None and any(p.result is None and p.decision is None for p in plans):
        key = ensure_secret_key(session)  # first use ever: stored, and the lock let go
        session.commit()
    _send(plans, settings, key or "")
    return record(session, plans, max_attempts=MAX_ATTEMPTS)
