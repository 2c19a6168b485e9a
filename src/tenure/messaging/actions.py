"""Writes of the messaging capability: queue an email, the suppression list, and what
the links in an email do (unsubscribe, open, click).

``queue_email`` is the one way an email enters the outbox: the message row and its send
job are written in one transaction (the outbox pattern, docs/jobs.md), so the job exists
if and only if the message does, and nothing leaves before the commit. ``stage_email``
is the same without the commit and the actor check, for a caller that queues many in its
own transaction (a campaign).
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.config import Settings, get_settings
from tenure.customers.actions import record_consent
from tenure.customers.models import ConsentStatus, Identity, IdentityKind, Person
from tenure.customers.normalize import NormalizationError, normalize_email
from tenure.customers.schemas import ConsentIn
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import record_audit
from tenure.identity.permissions import MESSAGE_SENDERS, SUPPRESSION_ADMINS, Actor, authorize
from tenure.jobs import enqueue
from tenure.messaging.events import append_email_event
from tenure.messaging.identifiers import message_id_for
from tenure.messaging.links import CLICK, OPEN, UNSUBSCRIBE, safe_destination, unsign
from tenure.messaging.models import Message, MessageStatus, Purpose, Suppression, SuppressionSource
from tenure.messaging.policy import consent_in_force
from tenure.messaging.sending import SEND_TASK, job_priority
from tenure.messaging.templating.queries import current_version, get_template_row
from tenure.messaging.templating.render import render_template

SUBJECT_MAX = 998  # RFC 5322's line limit
BODY_MAX = 1_000_000
UNSUBSCRIBE_SOURCE = "unsubscribe link"


def _email_of(session: Session, person_id: int) -> str:
    address = session.scalar(
        select(Identity.value)
        .where(Identity.person_id == person_id, Identity.kind == IdentityKind.email.value)
        .order_by(Identity.is_primary.desc(), Identity.id)
        .limit(1)
    )
    if address is None:
        raise InvalidInput("person_id", "the person has no email address")
    return str(address)


def _check_content(subject: str, html: str, text: str, purpose: str) -> None:
    if purpose not in {p.value for p in Purpose}:
        raise InvalidInput("purpose", "must be marketing or transactional")
    if not subject.strip():
        raise InvalidInput("subject", "is empty")
    if "\r" in subject or "\n" in subject:
        raise InvalidInput("subject", "must be one line")
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput("subject", f"is longer than {SUBJECT_MAX} characters")
    if not html.strip() and not text.strip():
        raise InvalidInput("text", "the message has neither text nor HTML")
    for field, value in (("html", html), ("text", text)):
        if len(value) > BODY_MAX:
            raise InvalidInput(field, f"is longer than {BODY_MAX} characters")
        if "\x00" in value:
            raise InvalidInput(field, "contains a NUL character")


def stage_email(
    session: Session,
    *,
    person_id: int,
    subject: str,
    html: str,
    text: str,
    purpose: Literal["marketing", "transactional"] | str,
    from_address: str,
    actor_id: int | None = None,
    template_version_id: int | None = None,
    campaign_key: str | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Add the message and its send job to ``session``'s transaction (not committed).

    ``idempotency_key`` (a workflow step's) makes the message's key, its send job's and
    its Message-ID stable for that caller; by default a random one."""
    _check_content(subject, html, text, purpose)
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    key = idempotency_key or f"email:{uuid.uuid4().hex}:{person_id}"
    now = utcnow()
    message = Message(
        person_id=person_id,
        to_address=_email_of(session, person_id),
        subject=subject.strip(),
        html=html,
        text=text,
        purpose=purpose,
        status=MessageStatus.queued.value,
        message_id_header=message_id_for(key, from_address),
        idempotency_key=key,
        attempts=0,
        template_version_id=template_version_id,
        campaign_key=campaign_key,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
        opens=0,
        clicks=0,
    )
    session.add(message)
    session.flush()
    message.job_id = enqueue(
        session=session,
        task=SEND_TASK,
        payload={"message_id": message.id},
        priority=job_priority(purpose),
        idempotency_key=key,
    )
    return message


def queue_email(
    session: Session,
    *,
    actor: Actor | None,
    person_id: int,
    subject: str,
    html: str,
    text: str,
    purpose: Literal["marketing", "transactional"],
    template_version_id: int | None = None,
    campaign_key: str | None = None,
    settings: Settings | None = None,
) -> Message:
    """Queue an already rendered email to a person; committed. Consent, fatigue, quiet
    hours and the sending limits are checked when it is sent, not here: what holds at
    send time decides (a person may unsubscribe between the two)."""
    actor_id = authorize(actor, MESSAGE_SENDERS)
    message = stage_email(
        session,
        person_id=person_id,
        subject=subject,
        html=html,
        text=text,
        purpose=purpose,
        from_address=(settings or get_settings()).mail_from,
        actor_id=actor_id,
        template_version_id=template_version_id,
        campaign_key=campaign_key,
    )
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="message",
        entity_id=message.id,
        changes={
            "person_id": {"before": None, "after": person_id},
            "subject": {"before": None, "after": message.subject},
            "purpose": {"before": None, "after": purpose},
        },
    )
    session.commit()
    return message


def send_template(
    session: Session,
    *,
    actor: Actor | None,
    person_id: int,
    template_id: int,
    campaign_key: str | None = None,
    settings: Settings | None = None,
) -> Message:
    """Render the template's current version for the person and queue it; committed.

    The purpose is the template's. ``{{ unsubscribe_url }}`` renders as the placeholder
    link, which :func:`tenure.messaging.compose.compose` turns into the message's own
    signed one-click link when it is sent (the link names the message, which does not
    exist yet). An archived template is refused (409).
    """
    authorize(actor, MESSAGE_SENDERS)
    template = get_template_row(session, template_id)
    if template.archived:
        raise Conflict(f"template {template.name!r} is archived")
    version = current_version(session, template_id)
    rendered = render_template(session, version.id, person_id)
    purpose: Literal["marketing", "transactional"] = (
        "marketing" if template.purpose == Purpose.marketing.value else "transactional"
    )
    return queue_email(
        session,
        actor=actor,
        person_id=person_id,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        purpose=purpose,
        template_version_id=version.id,
        campaign_key=campaign_key,
        settings=settings,
    )


def add_suppression(
    session: Session, *, actor: Actor | None, address: str, reason: str
) -> Suppression:
    """Suppress an address by hand (admins); committed. 409 if it is already listed."""
    actor_id = authorize(actor, SUPPRESSION_ADMINS)
    try:
        normalized = normalize_email(address).email.lower()
    except NormalizationError as error:
        raise InvalidInput("address", str(error))
    if not reason.strip():
        raise InvalidInput("reason", "is empty")
    if session.scalar(select(Suppression.id).where(Suppression.address == normalized)):
        raise Conflict(f"{normalized} is already suppressed", field="address")
    row = Suppression(
        address=normalized,
        reason=reason.strip()[:2000],
        source=SuppressionSource.manual.value,
        created_at=utcnow(),
        created_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="suppression",
        entity_id=row.id,
        changes={"address": {"before": None, "after": normalized}},
    )
    session.commit()
    return row


def remove_suppression(session: Session, *, actor: Actor | None, suppression_id: int) -> None:
    """Take an address off the suppression list (admins); committed."""
    actor_id = authorize(actor, SUPPRESSION_ADMINS)
    row = session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound("suppression", suppression_id)
    record_audit(
        session=session,
        actor_id=actor_id,
        action="delete",
        entity_type="suppression",
        entity_id=row.id,
        changes={"address": {"before": row.address, "after": None}},
    )
    session.delete(row)
    session.commit()


def _message_of(session: Session, message_id: object) -> Message:
    message = session.get(Message, message_id) if isinstance(message_id, int) else None
    if message is None:
        raise NotFound("message", message_id)
    return message


def unsubscribe(session: Session, *, token: str, key: str) -> Message:
    """Withdraw the email marketing consent of the message's person at once (the
    one-click POST of RFC 8058, or the page's button); committed. Idempotent."""
    message = _message_of(session, unsign(key, UNSUBSCRIBE, token))
    person_id = message.person_id
    if person_id is not None and consent_in_force(session, person_id, "marketing") != (
        ConsentStatus.withdrawn.value
    ):
        record_consent(
            session=session,
            person_id=person_id,
            consent=ConsentIn(
                channel="email",
                purpose="marketing",
                status=ConsentStatus.withdrawn,
                source=UNSUBSCRIBE_SOURCE,
            ),
            actor_id=None,
        )
        append_email_event(session, message, "email_unsubscribed", once=True)
    session.commit()
    return message


def record_open(session: Session, *, token: str, key: str) -> None:
    """Count an open; the first becomes an ``email_opened`` event. Committed."""
    message = _message_of(session, unsign(key, OPEN, token))
    message.opens += 1
    if message.opened_at is None:
        message.opened_at = utcnow()
        append_email_event(session, message, "email_opened", once=True)
    session.commit()


def record_click(session: Session, *, token: str, key: str) -> str:
    """Count a click as an ``email_clicked`` event; return where to send the reader
    (only the destination the signed token names). Committed."""
    value = unsign(key, CLICK, token)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
        raise InvalidInput("token", "is not a click link")
    message = _message_of(session, value[0])
    destination = safe_destination(value[1])
    message.clicks += 1
    append_email_event(session, message, "email_clicked", {"link": destination})
    session.commit()
    return destination
