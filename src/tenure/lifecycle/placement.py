"""Incremental batch placement: who needs placing again since the last batch placement.

A batch placement (``actions.evaluate_all_stages``) records a :class:`StagePlacement`
row with marks it read before it started: the newest scores row's ``fitted_at`` (a
row's ``fitted_at`` is the refresh that last changed its values, see
``tenure.scores.writes``), the newest event id and the newest ``people.updated_at``.
The next placement, at the **same** ``as_of`` and with the same enabled rules, re-places
only the people past those marks: scores changed, events appended, the person edited
(tags and attributes included). Anything else places everyone:

* no earlier placement, or ``full`` asked for (``tenure lifecycle evaluate --full``);
* another ``as_of``: the rules count days and windows against it, so time alone moves
  people (a live workspace's nightly run is therefore a full one; a fixed clock's, such
  as the demo's, or a second run the same day is incremental);
* other rules (``rules_key``).

A score row removed while its person stays (every order of theirs deleted) leaves no
mark; such deletions are rare (merges delete the person), and a full placement covers
them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, func, select, union
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.lifecycle.models import EVENT_SOURCE, StagePlacement
from tenure.lifecycle.queries import StageModel
from tenure.scores.models import PersonScore, ScoreRefresh
from tenure.timeline.models import Event

#: Events the stage rules derive or ignore (stage changes, segment entries and exits), as
#: in ``tenure.lifecycle.reactions``: a placement's own stage changes do not make their
#: people due again.
DERIVED_SOURCES = (EVENT_SOURCE, "segments")


@dataclass(frozen=True)
class Marks:
    """The newest input of each kind a placement saw before it started."""

    scores_fitted_at: datetime | None
    event_id: int | None
    people_updated_at: datetime | None


def read_marks(connection: Connection) -> Marks:
    fitted = connection.scalar(select(func.max(ScoreRefresh.fitted_at)))
    event = connection.scalar(select(func.max(Event.id)))
    updated = connection.scalar(select(func.max(Person.updated_at)))
    return Marks(fitted, event, updated)


def rules_key(model: StageModel) -> str:
    """A fingerprint of the enabled rules in their order (stage, condition)."""
    rules = [(r.id, r.stage_id, r.priority, r.condition) for r in model.rules if r.enabled]
    return hashlib.sha256(orjson.dumps(rules, option=orjson.OPT_SORT_KEYS)).hexdigest()


def last_placement(session: Session) -> StagePlacement | None:
    return session.scalars(
        select(StagePlacement).order_by(StagePlacement.id.desc()).limit(1)
    ).first()


def people_to_place(session: Session, *, as_of: datetime, key: str) -> list[int] | None:
    """The people to re-place since the last placement, or None when everyone must be."""
    last = last_placement(session)
    if last is None or last.as_of != as_of or last.rules_key != key:
        return None
    parts: list[Select[Any]] = []
    if last.scores_fitted_at is not None:
        since = select(ScoreRefresh.id).where(ScoreRefresh.fitted_at > last.scores_fitted_at)
        parts.append(select(PersonScore.person_id).where(PersonScore.refresh_id.in_(since)))
    else:
        parts.append(select(PersonScore.person_id))
    events = select(Event.person_id).where(
        Event.person_id.is_not(None), Event.source.not_in(DERIVED_SOURCES)
    )
    if last.event_id is not None:
        events = events.where(Event.id > last.event_id)
    parts.append(events)
    people = select(Person.id)
    if last.people_updated_at is not None:
        people = people.where(Person.updated_at > last.people_updated_at)
    parts.append(people)
    return sorted(session.scalars(union(*parts)))


def record_placement(
    session: Session,
    *,
    as_of: datetime,
    full: bool,
    key: str,
    marks: Marks,
    people: int,
    changes: int,
    started_at: datetime,
    finished_at: datetime,
) -> None:
    session.add(
        StagePlacement(
            as_of=as_of,
            full=full,
            rules_key=key,
            scores_fitted_at=marks.scores_fitted_at,
            event_id=marks.event_id,
            people_updated_at=marks.people_updated_at,
            people=people,
            changes=changes,
            started_at=started_at,
            finished_at=finished_at,
        )
    )
