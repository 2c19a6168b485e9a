"""What is decided at send time, in this order: the address is not suppressed, consent
for the channel and purpose is in force, the fatigue budget (marketing only), quiet hours
in the person's time zone (marketing only) and the sending limits.

A skip (suppressed) ends the message with its reason; a deferral gives the time to try
again. A batch of messages is decided together (:class:`Facts`: one query per check for
the whole batch, not per message), in order, each message counting against the fatigue
budget and the limits of those after it as if it had been sent. Counts and quiet hours
use the real time (``utcnow``), not the workspace clock: they are about when mail
actually leaves, a system fact, like a job's run time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import ConsentRecord, ConsentStatus, Person
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


@dataclass
class Facts:
    """What the checks read for one batch of messages, and the sends planned so far."""

    session: Session
    now: datetime
    suppressed: dict[str, tuple[str, str]]  # address -> (source, reason)
    consents: dict[tuple[int, str], str]  # (person, purpose) -> latest status
    marketing_sent: Counter[int]  # person -> marketing emails sent in the fatigue window
    sent_in: dict[timedelta, int]  # limit window -> emails sent in it
    attributes: dict[int, dict]  # person -> attributes (for quiet hours)
    workspace_zone: str
    planned: int = 0
    planned_marketing: Counter[int] = field(default_factory=Counter)

    def plan(self, message: Message) -> None:
        """Count ``message`` as sent for the checks of the messages after it."""
        self.planned += 1
        if message.purpose == Purpose.marketing.value and message.person_id is not None:
            self.planned_marketing[message.person_id] += 1


def _latest_consents(session: Session, person_ids: list[int]) -> dict[tuple[int, str], str]:
    rows = session.execute(
        select(ConsentRecord.person_id, ConsentRecord.purpose, ConsentRecord.status)
        .where(
            ConsentRecord.person_id.in_(person_ids),
            ConsentRecord.channel == CHANNEL,
            ConsentRecord.purpose.in_(sorted(set(CONSENT_PURPOSE.values()))),
        )
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
    )
    latest: dict[tuple[int, str], str] = {}
    for person_id, purpose, status in rows:
        latest.setdefault((person_id, purpose), status)
    return latest


def _limit_windows(settings: Settings) -> list[tuple[int, timedelta, str]]:
    return [
        (limit, window, label)
        for limit, window, label in (
            (settings.send_limit_per_minute, timedelta(minutes=1), "per minute"),
            (settings.send_limit_per_hour, timedelta(hours=1), "per hour"),
        )
        if limit
    ]


def gather(
    session: Session, messages: Sequence[Message], settings: Settings, now: datetime
) -> Facts:
    """Read what deciding ``messages`` needs: a query per check for the batch."""
    people = sorted({m.person_id for m in messages if m.person_id is not None})
    marketing = sorted(
        {m.person_id for m in messages if m.purpose == Purpose.marketing.value and m.person_id}
    )
    addresses = sorted({m.to_address.lower() for m in messages})
    suppressed = {
        row.address: (row.source, row.reason)
        for row in session.execute(
            select(Suppression.address, Suppression.source, Suppression.reason).where(
                Suppression.address.in_(addresses)
            )
        )
    }
    marketing_sent: Counter[int] = Counter()
    if settings.fatigue_max_marketing and marketing:
        since = now - timedelta(days=settings.fatigue_window_days)
        marketing_sent.update(
            {
                person: count
                for person, count in session.execute(
                    select(Message.person_id, func.count())
                    .where(
                        Message.person_id.in_(marketing),
                        Message.purpose == Purpose.marketing.value,
                        Message.sent_at > since,
                    )
                    .group_by(Message.person_id)
                )
                if person is not None
            }
        )
    sent_in = {
        window: session.scalar(
            select(func.count()).select_from(Message).where(Message.sent_at > now - window)
        )
        or 0
        for _, window, _ in _limit_windows(settings)
    }
    quiet = settings.quiet_hours_start is not None and settings.quiet_hours_end is not None
    attributes: dict[int, dict] = {}
    zone = "UTC"
    if quiet and marketing:
        attributes = {
            row.id: row.attributes
            for row in session.execute(
                select(Person.id, Person.attributes).where(Person.id.in_(marketing))
            )
        }
        zone = time_zone(session).key
    return Facts(
        session=session,
        now=now,
        suppressed=suppressed,
        consents=_latest_consents(session, people) if people else {},
        marketing_sent=marketing_sent,
        sent_in=sent_in,
        attributes=attributes,
        workspace_zone=zone,
    )


def consent_rule(purpose: str, status: str | None) -> Decision:
    """The consent rule alone: marketing needs consent granted, anything else only not
    withdrawn. ``status`` is the latest record's for the purpose's consent (None: none).
    The send-time check, the workflow email step and the dry run all ask it."""
    if purpose == Purpose.marketing.value:
        if status != ConsentStatus.granted.value:
            said = "withdrawn" if status else "never given"
            return Skip(f"no consent: email marketing consent {said}")
    elif status == ConsentStatus.withdrawn.value:
        return Skip("no consent: email service consent withdrawn")
    return None


def consent_decision(facts: Facts, message: Message) -> Decision:
    if message.person_id is None:
        return Skip("the person was deleted")
    status = facts.consents.get((message.person_id, CONSENT_PURPOSE[message.purpose]))
    return consent_rule(message.purpose, status)


def fatigue_decision(facts: Facts, message: Message, settings: Settings) -> Decision:
    """At most ``fatigue_max_marketing`` marketing messages per person in the window,
    whatever sent them (every email goes through this outbox); transactional is exempt."""
    limit = settings.fatigue_max_marketing
    if message.purpose != Purpose.marketing.value or limit == 0 or message.person_id is None:
        return None
    person = message.person_id
    sent = facts.marketing_sent[person] + facts.planned_marketing[person]
    if sent >= limit:
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


def quiet_hours_decision(facts: Facts, message: Message, settings: Settings) -> Decision:
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if message.purpose != Purpose.marketing.value or start is None or end is None or start == end:
        return None
    # Neither a time_zone attribute nor a country: the workspace's (Settings > Workspace).
    attributes = facts.attributes.get(message.person_id) if message.person_id else None
    zone = person_zone(attributes, facts.workspace_zone)
    now = facts.now
    wake = quiet_hours_end(now, start, end, now.astimezone(zone))
    if wake is None:
        return None
    return Defer(
        wake,
        f"quiet hours ({start:%H:%M}-{end:%H:%M} {zone.key}): waits until {end:%H:%M} there",
    )


def _limit_decision(facts: Facts, limit: int, window: timedelta, label: str) -> Decision:
    sent = facts.sent_in[window] + facts.planned
    if sent < limit:
        return None
    # The window frees a place when its oldest counted message leaves it; the batch's
    # planned sends are the newest (now).
    now, since = facts.now, facts.now - window
    offset = sent - limit
    oldest: datetime | None = now
    if offset < facts.sent_in[window]:
        oldest = facts.session.scalar(
            select(Message.sent_at)
            .where(Message.sent_at > since)
            .order_by(Message.sent_at)
            .offset(offset)
            .limit(1)
        )
    until = (oldest or now) + window
    return Defer(max(until, now + timedelta(seconds=1)), f"sending limit: {limit} emails {label}")


def limits_decision(facts: Facts, settings: Settings) -> Decision:
    """Per-minute then per-hour limits over every email sent. Workers sending at the same
    time each count what is recorded when their batch begins, so together they can pass a
    limit by what they have in flight: a limit protects a relay's rate, not an exact
    count."""
    for limit, window, label in _limit_windows(settings):
        decision = _limit_decision(facts, limit, window, label)
        if decision is not None:
            return decision
    return None


def decide(facts: Facts, message: Message, settings: Settings) -> Decision:
    """Skip, defer or (None) send ``message``; a send is counted for the next ones."""
    suppressed = facts.suppressed.get(message.to_address.lower())
    if suppressed is not None:
        source, reason = suppressed
        return Skip(f"address suppressed ({source}): {reason}")
    decision = (
        consent_decision(facts, message)
        or fatigue_decision(facts, message, settings)
        or quiet_hours_decision(facts, message, settings)
        or limits_decision(facts, settings)
    )
    if decision is None:
        facts.plan(message)
    return decision
