"""The read model's reaction to stored events: the people they touched are marked stale.

One set-based upsert in the appending transaction (the events and the flag commit
together), and one rebuild job queued for them (``unique_key``: a burst of appends
queues one). Every origin counts: stage changes, notes and segment entries are on the
360's timeline too.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tenure.customers.summaries import mark_stale
from tenure.jobs.enqueue import enqueue
from tenure.timeline.pipeline import Appended, register_reaction

REACTION = "summaries.stale"
#: After the stages (100), which append stage changes of their own.
ORDER = 800
TASK = "summaries.rebuild"
#: Appends in a burst coalesce into one rebuild.
REBUILD_DELAY = timedelta(seconds=5)


def mark_touched_people(session: Session, appended: Appended) -> None:
    if not appended.person_ids:
        return
    mark_stale(session, appended.person_ids)
    enqueue(session=session, task=TASK, unique_key=TASK, delay=REBUILD_DELAY)


def register() -> None:
    register_reaction(REACTION, mark_touched_people, order=ORDER)
