"""What is decided at send time, in this order: the address is not suppressed, consent
for the channel and purpose is in force, the fatigue budget (marketing only), quiet hours
in the person's time zone (marketing only) and the sending limits.

A skip (suppressed) ends the message with its reason; a deferral gives the time to try
again. Counts and quiet hours use the real time (``utcnow``), not the workspace clock:
they are about when mail actually leaves, a system fact, like a job's run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import ConsentRecord, ConsentStatus
from tenure.messaging.models import Message, Purpose, Suppression
from tenure.messaging.timezones import person_zone
from tenure.workspace.settings import time_zone

CHANNEL = "email"
#: The consent purpose each message purpose needs. Transactional mail (a receipt, a
#: renewal notice) is service mail: sent unless the person withdrew service email.
CONSENT_PURPOSE = {Purpose.marketing.value: "marketing", Purpose.transactional.value: "service"}


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


Decision = Skip | Defer | None


def suppression_of(session: Session, address: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.address == address.lower()))


def consent_in_force(session: Session, person_id: int, purpose: str) -> str | None:
    """The status of the latest email consent record for ``purpose`` (None: no record).
    The latest by recorded time, then by id, as ``customers`` defines it."""
    return session.scalar(
        select(ConsentRecord.status)
        .where(
            ConsentRecord.person_id == person_id,
            ConsentRecord.channel == CHANNEL,
            ConsentRecord.purpose == purpose,
        )
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )


def consent_rule(purpose: str, status: str | None) -> Decision:
    """The consent rule alone: marketing needs consent granted, anything else only not
    withdrawn. ``status`` is the latest record's for the purpose's consent (None: none)."""
    if purpose == Purpose.marketing.value:
        if status != ConsentStatus.granted.value:
            said = "withdrawn" if status else "never given"
            return Skip(f"no consent: email marketing consent {said}")
    elif status == ConsentStatus.withdrawn.value:
        return Skip("no consent: email service consent withdrawn")
    return None


def consent_decision(session: Session, message: Message) -> Decision:
    if message.person_id is None:
        return Skip("the person was deleted")
    status = consent_in_force(session, message.person_id, CONSENT_PURPOSE[message.purpose])
    return consent_rule(message.purpose, status)


def fatigue_decision(
    session: Session, message: Message, settings: Settings, now: datetime
) -> Decision:
    """At most ``fatigue_max_marketing`` marketing messages per person in the window,
    whatever sent them (every email goes through this outbox); transactional is exempt."""
    limit = settings.fatigue_max_marketing
    if message.purpose != Purpose.marketing.value or limit == 0 or message.person_id is None:
        return None
    since = now - timedelta(days=settings.fatigue_window_days)
    sent = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.person_id == message.person_id,
            Message.purpose == Purpose.marketing.value,
            Message.sent_at > since,
        )
    )
    if sent and sent >= limit:
        return Skip(
            f"fatigue: {sent} marketing emails in the last {settings.fatigue_window_days} days "
            f"(budget {limit})"
        )
    return None


def quiet_hours_end(now: datetime, start: time, end: time, zone_now: datetime) -> datetime | None:
    """The end of the quiet hours ``zone_now`` falls in (UTC), or None outside them.
    ``start`` after ``end`` spans midnight (21:00 to 08:00)."""
    local = zone_now.time().replace(tzinfo=None)
    spans_midnight = start > end
    inside = (local >= start or local < end) if spans_midnight else (start <= local < end)
    if not inside:
        return None
    day = zone_now.date()
    if spans_midnight and local >= start:
        day += timedelta(days=1)
    wake = datetime.combine(day, end, tzinfo=zone_now.tzinfo)
    return wake.astimezone(now.tzinfo)


def quiet_hours_decision(
    session: Session, message: Message, attributes: dict | None, settings: Settings, now: datetime
) -> Decision:
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if message.purpose != Purpose.marketing.value or start is None or end is None or start == end:
        return None
    # Neither a time_zone attribute nor a country: the workspace's (Settings > Workspace).
    zone = person_zone(attributes, time_zone(session).key)
    wake = quiet_hours_end(now, start, end, now.astimezone(zone))
    if wake is None:
        return None
    return Defer(
        wake,
        f"quiet hours ({start:%H:%M}-{end:%H:%M} {zone.key}): waits until {end:%H:%M} there",
    )


def _limit_decision(
    session: Session, limit: int, window: timedelta, label: str, now: datetime
) -> Decision:
    if limit == 0:
        return None
    since = now - window
    sent = session.scalar(select(func.count()).select_from(Message).where(Message.sent_at > since))
    if not sent or sent < limit:
        return None
    # The window frees a place when its oldest counted message leaves it.
    oldest = session.scalar(
        select(Message.sent_at)
        .where(Message.sent_at > since)
        .order_by(Message.sent_at)
        .offset(sent - limit)
        .limit(1)
    )
    until = (oldest or now) + window
    return Defer(max(until, now + timedelta(seconds=1)), f"sending limit: {limit} emails {label}")


def limits_decision(session: Session, settings: Settings, now: datetime) -> Decision:
    """Per-minute then per-hour limits over every email sent. Two workers checking at the
    same instant can each send one past the limit (PostgreSQL; SQLite's job runs hold the
    write lock): a limit protects a relay's rate, not an exact count."""
    return _limit_decision(
        session, settings.send_limit_per_minute, timedelta(minutes=1), "per minute", now
    ) or _limit_decision(session, settings.send_limit_per_hour, timedelta(hours=1), "per hour", now)


def decide(
    session: Session, message: Message, attributes: dict | None, settings: Settings, now: datetime
) -> Decision:
    suppressed = suppression_of(session, message.to_address)
    if suppressed is not None:
        return Skip(f"address suppressed ({suppressed.source}): {suppressed.reason}")
    return (
        consent_decision(session, message)
        or fatigue_decision(session, message, settings, now)
        or quiet_hours_decision(session, message, attributes, settings, now)
        or limits_decision(session, settings, now)
    )
