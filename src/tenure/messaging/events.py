"""The messaging events on the person's timeline, through ``timeline.append``:
``email_sent`` (the subject and a link to the stored body), ``email_opened`` (the first
open), ``email_clicked`` (each click, with its destination) and ``email_bounced``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.messaging.models import Message
from tenure.timeline.append import append_rows
from tenure.workspace import clock

ORIGIN = "messaging"
SOURCE = "messaging"
CHANNEL = "email"


def message_path(message_id: int) -> str:
    return f"/messages/{message_id}"


def email_event_row(
    message: Message,
    kind: str,
    extra: dict[str, Any] | None,
    *,
    occurred_at: datetime,
    received_at: datetime,
    once: bool = False,
) -> tuple[Any, ...]:
    """The events row (``timeline.ingest.EVENT_COLUMNS`` order) of ``kind`` for ``message``'s
    person. ``once`` makes the event idempotent on (source, message, kind)."""
    payload = {
        "message_id": message.id,
        "subject": message.subject,
        "purpose": message.purpose,
        "url": message_path(message.id),
        **(extra or {}),
    }
    return (
        message.person_id,
        occurred_at,
        received_at,
        kind,
        CHANNEL,
        SOURCE,
        f"{kind}:{message.id}" if once else None,
        None,
        None,
        payload,
    )


def append_email_events(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Append rows made by :func:`email_event_row` (a batch of sends: one append)."""
    if rows:
        append_rows(session=session, rows=rows, origin=ORIGIN)


def append_email_event(
    session: Session,
    message: Message,
    kind: str,
    extra: dict[str, Any] | None = None,
    *,
    once: bool = False,
) -> None:
    """Append ``kind`` for ``message``'s person, dated by the workspace clock (like a
    note). ``once`` makes the event idempotent on (source, message, kind)."""
    if message.person_id is None:
        return
    row = email_event_row(
        message, kind, extra, occurred_at=clock.now(session), received_at=utcnow(), once=once
    )
    append_email_events(session, [row])
