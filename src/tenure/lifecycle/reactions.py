"""Lifecycle's reaction to stored events: the people they touched are placed again.

Registered with the event pipeline by ``tenure.registrations``; runs in the appending
transaction, so events and the stage changes they cause commit together. It ignores the
stage_changed events it appends itself, and segment entries and exits (derived events
that no stage rule reads, appended by the hundred thousand on a segment refresh).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.lifecycle.actions import evaluate_stages
from tenure.lifecycle.conditions import Compare, EventCount, parse_condition, walk
from tenure.lifecycle.models import EVENT_SOURCE, LifecycleRule
from tenure.timeline.pipeline import Appended, register_reaction

REACTION = "lifecycle.stages"
# Stages first: later reactions (journeys, workflows) read the stage the events led to.
ORDER = 100
SEGMENTS_ORIGIN = "segments"
#: Event types no built-in aggregate of a stage rule reads: an email Tenure sent is its own
#: action, not the person's (not engagement, not activity). Placing its person again cost
#: 20-40 ms a message on the demo, most of a bulk send's time.
INERT_TYPES = frozenset({"email_sent"})


def named_event_types(session: Session) -> frozenset[str]:
    """Event types the enabled rules count by name ({"events": {"type": ...}}).

    Reads the rules' conditions alone: loading the whole stage model cost more than half
    of a sent message's own work."""
    conditions = session.scalars(
        select(LifecycleRule.condition).where(LifecycleRule.enabled.is_(True))
    )
    return frozenset(
        node.subject.type
        for condition in conditions
        for node in walk(parse_condition(condition))
        if isinstance(node, Compare) and isinstance(node.subject, EventCount)
    )


def place_touched_people(session: Session, appended: Appended) -> None:
    """Re-evaluate the stages of the people the append touched (if incremental is on),
    unless no rule can read what was appended."""
    if appended.types <= INERT_TYPES and not appended.types & named_event_types(session):
        return
    evaluate_stages(session=session, person_ids=appended.person_ids)


def register() -> None:
    register_reaction(
        REACTION,
        place_touched_people,
        order=ORDER,
        ignore_origins=(EVENT_SOURCE, SEGMENTS_ORIGIN),
    )
