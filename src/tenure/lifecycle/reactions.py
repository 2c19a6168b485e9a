"""Lifecycle's reaction to stored events: the people they touched are placed again.

Registered with the event pipeline by ``tenure.registrations``; runs in the appending
transaction, so events and the stage changes they cause commit together. It ignores the
stage_changed events it appends itself, and segment entries and exits (derived events
that no stage rule reads, appended by the hundred thousand on a segment refresh).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tenure.lifecycle.actions import evaluate_stages
from tenure.lifecycle.models import EVENT_SOURCE
from tenure.timeline.pipeline import Appended, register_reaction

REACTION = "lifecycle.stages"
# Stages first: later reactions (journeys, workflows) read the stage the events led to.
ORDER = 100
SEGMENTS_ORIGIN = "segments"


def place_touched_people(session: Session, appended: Appended) -> None:
    """Re-evaluate the stages of the people the append touched (if incremental is on)."""
    evaluate_stages(session=session, person_ids=appended.person_ids)


def register() -> None:
    register_reaction(
        REACTION,
        place_touched_people,
        order=ORDER,
        ignore_origins=(EVENT_SOURCE, SEGMENTS_ORIGIN),
    )
