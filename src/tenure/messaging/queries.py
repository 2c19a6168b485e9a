"""Reads of the messaging capability: the outbox, one message, the suppression list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.messaging.models import Message, MessageStatus, Suppression

STATUSES = tuple(s.value for s in MessageStatus)


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    person_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """Newest first."""
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    if status:
        query = query.where(Message.status == status)
    if person_id is not None:
        query = query.where(Message.person_id == person_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(session.scalars(query))


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def get_message(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def person_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(ids))
    )
    return {pid: f"{first} {last}".strip() or f"Person {pid}" for pid, first, last in rows}


def message_dict(message: Message, *, with_body: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "person_id": message.person_id,
        "to": message.to_address,
        "subject": message.subject,
        "purpose": message.purpose,
        "status": message.status,
        "reason": message.reason,
        "message_id": message.message_id_header,
        "attempts": message.attempts,
        "template_version_id": message.template_version_id,
        "campaign_key": message.campaign_key,
        "job_id": message.job_id,
        "created_at": message.created_at,
        "run_at": message.run_at,
        "sent_at": message.sent_at,
        "smtp_reply": message.smtp_reply,
        "opened_at": message.opened_at,
        "opens": message.opens,
        "clicks": message.clicks,
    }
    if with_body:
        data |= {"html": message.html, "text": message.text}
    return data


def list_suppressions(
    session: Session, *, search: str | None = None, limit: int = 200, before_id: int | None = None
) -> list[Suppression]:
    query = select(Suppression).order_by(Suppression.id.desc()).limit(limit)
    if search:
        query = query.where(Suppression.address.contains(search.lower(), autoescape=True))
    if before_id is not None:
        query = query.where(Suppression.id < before_id)
    return list(session.scalars(query))


def suppression_dict(row: Suppression) -> dict[str, Any]:
    return {
        "id": row.id,
        "address": row.address,
        "reason": row.reason,
        "source": row.source,
        "created_at": row.created_at,
        "created_by_id": row.created_by_id,
    }
