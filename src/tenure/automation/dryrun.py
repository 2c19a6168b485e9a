"""The dry run of a draft: replay the last N days of events against it, read only.

Who would have entered (the trigger's events in the window, the conditions and the goal
condition judged on today's data, "today's segments"), then each entry walks the steps
on the business clock: a wait moves the entry's own clock on, a wait for an event looks
for that event in the log, a branch asks the filter, a send is stopped when consent (the
send-time rule of ``messaging.policy``) or the fatigue budget (the same settings the
outbox applies) would stop it. Sends are counted per business day, days after today
included: someone who entered yesterday before a 3-day wait gets the email in two days.

Nothing is written: every statement is a SELECT, and the API and page run it in a
session they roll back. The finding of entrants, the consent states and the fatigue
already spent are queries; the walk is Python over the entrants' few event times.

What a replay cannot know is said in ``notes``: triggers without a history (a field's
new value, a score crossing, a date attribute). The holdout is the engine's draw
(``enrolment.in_holdout``, a hash), a random split a stable hash of the person, so the
same dry run gives the same numbers.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Select, Table, func, literal, select
from sqlalchemy.orm import Session

from tenure.automation.definition import (
    BranchStep,
    CreateTaskStep,
    Definition,
    Duration,
    EventTrigger,
    ExitStep,
    ManualTrigger,
    ScheduleTrigger,
    SegmentTrigger,
    SendEmailStep,
    SplitStep,
    StageChangedTrigger,
    WaitForEventStep,
    WaitStep,
    WaitUntilTimeStep,
)
from tenure.automation.enrolment import in_holdout
from tenure.automation.models import Enrolment
from tenure.config import Settings
from tenure.customers.models import ConsentRecord, Person
from tenure.customers.queries import person_list_dicts, person_list_query
from tenure.db import dialect as sql
from tenure.db.types import utcnow
from tenure.errors import InvalidInput
from tenure.messaging import policy
from tenure.messaging.models import Message, Purpose
from tenure.messaging.templating.models import MessageTemplate
from tenure.segments.actions import compile_for
from tenure.timeline.models import Event
from tenure.workspace import clock
from tenure.workspace.settings import time_zone

DEFAULT_DAYS = 30
MAX_DAYS = 365
SAMPLE_SIZE = 10
STAGE_CHANGED = "stage_changed"
events_table = cast(Table, Event.__table__)
messages_table = cast(Table, Message.__table__)
consents = cast(Table, ConsentRecord.__table__)


@dataclass(frozen=True)
class Entry:
    person_id: int
    at: datetime
    event_id: int | None = None  # the triggering event (the holdout draw reads it)


@dataclass
class DryRun:
    days: int
    since: datetime
    now: datetime
    entries: int = 0
    people: int = 0
    holdout: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)
    messages_per_day: dict[date, int] = field(default_factory=dict)
    messages: int = 0
    stopped_by_consent: int = 0
    stopped_by_fatigue: int = 0
    goal_reached: int = 0
    tasks: int = 0
    other_actions: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "since": self.since,
            "now": self.now,
            "would_enter": self.entries,
            "people": self.people,
            "holdout": self.holdout,
            "sample": self.sample,
            "messages": self.messages,
            "messages_per_day": [
                {"day": day.isoformat(), "messages": count, "after_today": day > self.now.date()}
                for day, count in sorted(self.messages_per_day.items())
            ],
            "stopped_by_consent": self.stopped_by_consent,
            "stopped_by_fatigue": self.stopped_by_fatigue,
            "goal_reached_before_the_end": self.goal_reached,
            "tasks": self.tasks,
            "other_actions": self.other_actions,
            "notes": self.notes,
        }


def dry_run(
    session: Session,
    definition: Definition,
    settings: Settings,
    *,
    currency: str,
    days: int = DEFAULT_DAYS,
    workflow_id: int | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> DryRun:
    """What ``definition`` would have done over the last ``days`` days; writes nothing.

    Filters that do not compile raise ``segments.syntax.FilterError`` (a 422 naming the
    field) like a segment's would.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"must be between 1 and {MAX_DAYS}")
    now = clock.now(session)
    result = DryRun(days=days, since=now - timedelta(days=days), now=now)
    entries = _entries(session, definition, result, currency=currency, workflow_id=workflow_id)
    result.entries = len(entries)
    people = sorted({entry.person_id for entry in entries})
    result.people = len(people)
    result.sample = _sample(session, people, sample_size)
    if entries:
        walk = _Walk(
            session,
            definition,
            settings,
            result,
            people,
            currency=currency,
            workflow_id=workflow_id,
        )
        for entry in entries:
            walk.run(entry)
    return result


# --- who would enter ---------------------------------------------------------------------


def _entries(
    session: Session,
    definition: Definition,
    result: DryRun,
    *,
    currency: str,
    workflow_id: int | None,
) -> list[Entry]:
    connection = session.connection()
    name = connection.dialect.name
    trigger = definition.trigger
    events: Select[Any]
    window = (Event.occurred_at >= result.since, Event.occurred_at <= result.now)
    base: Select[Any] = select(
        events_table.c.person_id, events_table.c.occurred_at, events_table.c.id
    ).where(Event.person_id.is_not(None), *window)
    if isinstance(trigger, EventTrigger):
        events = base.where(Event.type == trigger.event_type)
    elif isinstance(trigger, StageChangedTrigger):
        events = base.where(Event.type == STAGE_CHANGED)
        if trigger.to_stage:
            events = events.where(sql.json_equals_text(name, Event.payload, "to", trigger.to_stage))
        if trigger.from_stage:
            events = events.where(
                sql.json_equals_text(name, Event.payload, "from", trigger.from_stage)
            )
    elif isinstance(trigger, SegmentTrigger):
        segment_id = sql.json_number(name, Event.payload, "segment_id")
        events = base.where(Event.type == trigger.kind, segment_id == trigger.segment_id)
    elif isinstance(trigger, ScheduleTrigger):
        # Everyone the conditions select today, entering once now.
        events = select(Person.id, sql.moment(name, result.now), literal(None, Integer))
        result.notes.append(
            "A schedule enrols whoever matches the conditions when it runs: shown as one run now."
        )
    elif isinstance(trigger, ManualTrigger):
        result.notes.append("Manual enrolment: nobody enters by themselves.")
        return []
    else:
        result.notes.append(
            f"A {trigger.kind.replace('_', ' ')} trigger has no history to replay: "
            "the dry run cannot say who would have entered."
        )
        return []
    if definition.conditions:
        compiled = compile_for(session, definition.conditions, currency=currency)
        events = events.where(events.selected_columns[0].in_(compiled.person_ids()))
    if definition.re_entry.policy == "never" and workflow_id is not None:
        enrolled = select(Enrolment.person_id).where(Enrolment.workflow_id == workflow_id)
        events = events.where(events.selected_columns[0].not_in(enrolled))
    policy_ = definition.re_entry.policy
    if policy_ != "always":
        # Once per person in the window: the first trigger (after_exit could enter again
        # after finishing; a window of a few weeks rarely holds two whole runs).
        inner = events.subquery()
        person, at, event = inner.c[0], inner.c[1], inner.c[2]
        # The first trigger's time; its event the lowest id (events arrive in order).
        events = select(person, func.min(at), func.min(event)).group_by(person)
    rows: Sequence[Any] = connection.execute(events).all()
    entries = sorted(
        (Entry(row[0], _aware(row[1]), row[2]) for row in rows),
        key=lambda e: (e.at, e.person_id),
    )
    if policy_ == "always" and definition.re_entry.cooldown_days:
        entries = _cool_down(entries, timedelta(days=definition.re_entry.cooldown_days))
    return entries


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # a constant moment comes back as SQLite's text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _cool_down(entries: list[Entry], cooldown: timedelta) -> list[Entry]:
    last: dict[int, datetime] = {}
    kept = []
    for entry in entries:
        previous = last.get(entry.person_id)
        if previous is None or entry.at - previous >= cooldown:
            kept.append(entry)
            last[entry.person_id] = entry.at
    return kept


def _sample(session: Session, people: Sequence[int], size: int) -> list[dict[str, Any]]:
    if not people:
        return []
    chosen = list(people[:size])
    rows = session.execute(
        person_list_query().where(Person.id.in_(chosen)).order_by(Person.id)
    ).all()
    return [
        {"id": p["id"], "name": f"{p['first_name'] or ''} {p['last_name'] or ''}".strip()}
        for p in person_list_dicts(session, rows)
    ]


# --- the walk ----------------------------------------------------------------------------


def _span(value: Duration) -> timedelta:
    return timedelta(days=value.days, hours=value.hours, minutes=value.minutes)


def _draw(*parts: object) -> int:
    """A stable number 0-99 for a person's draw (holdout, split)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


class _Walk:
    """Walks entries through the steps with the facts loaded once for all entrants."""

    def __init__(
        self,
        session: Session,
        definition: Definition,
        settings: Settings,
        result: DryRun,
        people: list[int],
        *,
        currency: str,
        workflow_id: int | None,
    ) -> None:
        self.session = session
        self.workflow_id = workflow_id
        self.template_purpose: dict[int, str] = {
            template_id: purpose
            for template_id, purpose in session.execute(
                select(MessageTemplate.id, MessageTemplate.purpose)
            )
        }
        self.definition = definition
        self.settings = settings
        self.result = result
        self.people = people
        self.zone = time_zone(session)
        self.position = {step.id: index for index, step in enumerate(definition.steps)}
        self.branch_true = {
            step.id: self._matching(step.condition, currency)
            for step in definition.steps
            if isinstance(step, BranchStep)
        }
        goal = definition.goal
        self.goal_people = (
            self._matching(goal.condition, currency) if goal and goal.condition else None
        )
        types = {s.event_type for s in definition.steps if isinstance(s, WaitForEventStep)}
        if goal is not None:
            types.add(goal.event_type)
        self.times = self._event_times(types)
        self.statuses: dict[str, dict[int, str]] = {}
        self.fatigue_spent = self._fatigue_spent()
        self.sent: dict[int, list[datetime]] = defaultdict(list)
        self.actions: Counter[str] = Counter()
        if definition.holdout_percent:
            result.notes.append(
                f"The {definition.holdout_percent} % holdout is drawn as the engine draws it "
                "(a hash of the person and the entry): they enter but get no steps."
            )

    def _matching(self, condition: str, currency: str) -> set[int]:
        compiled = compile_for(self.session, condition, currency=currency)
        connection = self.session.connection()
        query = compiled.person_ids().where(sql.id_in(connection, Person.id, self.people))
        return set(connection.execute(query).scalars())

    def _event_times(self, types: set[str]) -> dict[tuple[int, str], list[datetime]]:
        times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
        if not types:
            return times
        connection = self.session.connection()
        rows = connection.execute(
            select(events_table.c.person_id, events_table.c.type, events_table.c.occurred_at)
            .where(
                Event.type.in_(types),
                Event.occurred_at >= self.result.since,
                sql.id_in(connection, Event.person_id, self.people),
            )
            .order_by(Event.occurred_at)
        )
        for person_id, kind, at in rows:
            times[(person_id, kind)].append(_aware(at))
        return times

    def _fatigue_spent(self) -> dict[int, int]:
        """Marketing emails each entrant got in the fatigue window before now (the
        outbox's real sends, as the send-time check counts them)."""
        if self.settings.fatigue_max_marketing == 0:
            return {}
        connection = self.session.connection()
        # System time, as the send-time check counts it (the outbox's sends are real).
        since = utcnow() - timedelta(days=self.settings.fatigue_window_days)
        rows = connection.execute(
            select(messages_table.c.person_id, func.count())
            .where(
                Message.purpose == Purpose.marketing.value,
                Message.sent_at > since,
                sql.id_in(connection, Message.person_id, self.people),
            )
            .group_by(Message.person_id)
        )
        return {person_id: count for person_id, count in rows}

    def _first_event(self, person_id: int, kind: str, after: datetime, until: datetime) -> Any:
        times = self.times.get((person_id, kind), [])
        index = bisect_right(times, after)
        if index < len(times) and times[index] <= until:
            return times[index]
        return None

    def _goal_by(self, entry: Entry, moment: datetime) -> bool:
        goal = self.definition.goal
        if goal is None:
            return False
        if self.goal_people is not None and entry.person_id not in self.goal_people:
            return False
        return self._first_event(entry.person_id, goal.event_type, entry.at, moment) is not None

    def _latest_consents(self, purpose: str) -> dict[int, str]:
        """Each entrant's latest email consent status for ``purpose``, in one query: the
        record ``policy.consent_in_force`` reads (newest by recorded time, then id)."""
        connection = self.session.connection()
        rank = (
            func.row_number()
            .over(
                partition_by=consents.c.person_id,
                order_by=(consents.c.recorded_at.desc(), consents.c.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(consents.c.person_id, consents.c.status, rank)
            .where(
                consents.c.channel == policy.CHANNEL,
                consents.c.purpose == purpose,
                sql.id_in(connection, consents.c.person_id, self.people),
            )
            .subquery()
        )
        rows = connection.execute(
            select(ranked.c.person_id, ranked.c.status).where(ranked.c.rank == 1)
        )
        return {person_id: status for person_id, status in rows}

    def _consents(self, person_id: int, purpose: str) -> bool:
        """Whether the outbox's consent rule (``policy.consent_rule``) lets this send go,
        on the latest statuses read once per purpose for everyone."""
        needed = policy.CONSENT_PURPOSE[purpose]
        if needed not in self.statuses:
            self.statuses[needed] = self._latest_consents(needed)
        return policy.consent_rule(purpose, self.statuses[needed].get(person_id)) is None

    def _fatigued(self, person_id: int, at: datetime) -> bool:
        limit = self.settings.fatigue_max_marketing
        if limit == 0:
            return False
        window = timedelta(days=self.settings.fatigue_window_days)
        recent = sum(1 for sent in self.sent[person_id] if at - window < sent <= at)
        return recent + self.fatigue_spent.get(person_id, 0) >= limit

    def _send(self, entry: Entry, step: SendEmailStep, at: datetime) -> None:
        # Marketing when the step or its template says so, as the engine sends it.
        marketing = Purpose.marketing.value in (
            step.purpose,
            self.template_purpose.get(step.template_id),
        )
        purpose = Purpose.marketing.value if marketing else Purpose.transactional.value
        if not self._consents(entry.person_id, purpose):
            self.result.stopped_by_consent += 1
            return
        if marketing and self._fatigued(entry.person_id, at):
            self.result.stopped_by_fatigue += 1
            return
        if marketing:
            self.sent[entry.person_id].append(at)
        day = at.astimezone(self.zone).date()
        self.result.messages_per_day[day] = self.result.messages_per_day.get(day, 0) + 1
        self.result.messages += 1

    def _until_time(self, at: datetime, hhmm: str) -> datetime:
        local = at.astimezone(self.zone)
        target = datetime.combine(local.date(), time.fromisoformat(hhmm), tzinfo=self.zone)
        if target <= local:
            target += timedelta(days=1)
        return target.astimezone(UTC)

    def run(self, entry: Entry) -> None:
        percent = self.definition.holdout_percent
        if in_holdout(self.workflow_id or 0, entry.person_id, entry.event_id, percent):
            self.result.holdout += 1
            return
        steps = self.definition.steps
        at = entry.at
        index: int | None = 0
        while index is not None and index < len(steps):
            step = steps[index]
            if self._goal_by(entry, at):
                self.result.goal_reached += 1
                return
            go: str | None = step.next
            if isinstance(step, WaitStep):
                at += _span(step.duration)
            elif isinstance(step, WaitUntilTimeStep):
                at = self._until_time(at, step.time)
            elif isinstance(step, WaitForEventStep):
                limit = at + _span(step.timeout)
                seen = self._first_event(entry.person_id, step.event_type, at, limit)
                at, go = (seen, step.on_event) if seen is not None else (limit, step.on_timeout)
                go = go or step.next
            elif isinstance(step, BranchStep):
                matched = entry.person_id in self.branch_true[step.id]
                go = (step.if_true if matched else step.if_false) or step.next
            elif isinstance(step, SplitStep):
                first = _draw(step.id, entry.person_id, entry.at.isoformat()) < step.percent_a
                go = (step.a if first else step.b) or step.next
            elif isinstance(step, SendEmailStep):
                self._send(entry, step, at)
            elif isinstance(step, CreateTaskStep):
                self.result.tasks += 1
            elif isinstance(step, ExitStep):
                return
            else:
                others = self.result.other_actions
                others[step.kind] = others.get(step.kind, 0) + 1
            index = self.position[go] if go is not None else index + 1
        if self._goal_by(entry, at):
            self.result.goal_reached += 1
