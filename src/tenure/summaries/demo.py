"""The demo's read model: every person's summary queued for building.

The base and the contributions before this one write tags, consents and tasks in bulk;
this last contribution gives everyone a stale row and queues the rebuild, which the
demo command's job run performs with the nightly chain.
"""

from __future__ import annotations

from tenure.jobs.enqueue import enqueue
from tenure.summaries.reactions import TASK
from tenure.summaries.rebuild import add_missing, mark_all_stale
from tenure.workspace.demo import DemoContext, register_demo_contribution

ORDER = 1000


def queue_summaries(context: DemoContext) -> None:
    add_missing(context.session)
    mark_all_stale(context.session)
    enqueue(session=context.session, task=TASK, unique_key=TASK)


def register() -> None:
    register_demo_contribution("summaries.read_model", queue_summaries, order=ORDER)
