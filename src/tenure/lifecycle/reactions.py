"""Lifecycle's reaction to stored events: the people they touched are placed again.

Registered with the event pipeline by ``tenure.registrations``; runs in the appending
transaction, so events and the stage changes they cause commit together. It ignores the
stage_changed events it appends itself, and segment entries and exits (derived events
that no stage rule reads, appended by the hundred thousand on a segment refresh).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenure.lifecycle.actions import evaluate_stages
from tenure.lifecycle.conditions import Compare, EventCount, walk
from tenure.lifecycle.models import EVENT_SOURCE
from tenure.lifecycle.queries import stage_model
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
    """Event types the enabled rules count by name ({"events": {"type": ...}})."""
    return frozenset(
        node.subject.type
        for rule in stage_model(session).rule_specs()
        for node in walk(rule.condition)
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
